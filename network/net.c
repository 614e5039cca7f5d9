#include "net.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/log.h"
#include "../lib/spawn.h"
#include "dnsctl.h"
#include "hostnet.h"
#include "ipam.h"
#include "link.h"
#include "nat.h"
#include "ports.h"

/* ---- paths and files ---- */

static char *sub(const char *root, const char *what) { return xasprintf("%s/net/%s", root, what); }
static char *network_path(const char *root, const char *name) { return xasprintf("%s/net/networks/%s.json", root, name); }
static char *endpoint_path(const char *root, const char *ctr) { return xasprintf("%s/net/endpoints/%s.json", root, ctr); }
char *net_netns_path(const char *root, const char *container) { return xasprintf("%s/net/netns/%s", root, container); }

int net_lock(const char *root, int *fd, struct berr **err)
{
	static const char *const dirs[] = {"networks", "endpoints", "netns", "dns"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = sub(root, dirs[i]);
		int r = fs_mkdir_p(d, 0700, err);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *path = sub(root, "lock");
	return fs_lock(path, fd, err);
}

static json_t *load(const char *path) { return json_load_file(path, 0, NULL); }

/* Only a new network's record is synced to disk (durable): addresses,
 * endpoints and the removing mark describe links and namespaces that a
 * power cut takes away anyway, and every reader takes a file it cannot
 * read as one that is not there. */
static int save(const char *path, json_t *j, bool durable, struct berr **err)
{
	char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r = (durable ? fs_write_atomic : fs_write_replace)(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static const char *jstr(json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

static uint32_t jip(json_t *j, const char *key)
{
	uint32_t ip = 0;
	const char *s = jstr(j, key);
	if (s)
		ip_parse(s, &ip);
	return ip;
}

static void set_ip(json_t *j, const char *key, uint32_t ip)
{
	char *s = ip_format(ip);
	json_object_set_new(j, key, json_string(s));
	free(s);
}

/* File names in a state directory without their .json suffix. */
static char **list_json(const char *root, const char *what)
{
	_cleanup_free_ char *dir = sub(root, what);
	char **out = xcalloc(1, sizeof(char *));
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] != '.' && n > 5 && streq(e->d_name + n - 5, ".json"))
			strv_push(&out, xstrndup(e->d_name, n - 5));
	}
	if (d)
		closedir(d);
	strv_sort(out);
	return out;
}

char **net_endpoints(const char *root, const char *project)
{
	char **all = list_json(root, "endpoints");
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; all[i]; i++) {
		_cleanup_free_ char *path = xasprintf("%s/net/endpoints/%s.json", root, all[i]);
		json_t *j = json_load_file(path, 0, NULL);
		if (streq(json_string_value(json_object_get(j, "project")), project))
			strv_push(&out, xstrdup(all[i]));
		json_decref(j);
	}
	strv_free(all);
	return out;
}

static bool name_ok(const char *name) { return name_valid(name); }

bool net_bridge_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= 15 && name[0] != '-' && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Host ends of veths that detach let go of, and bridges of removed
 * networks: deleted together by the next net_sync (or at once by a later
 * attach or ensure that needs the names). */
static char **dying;

static bool removing(json_t *net) { return json_is_true(json_object_get(net, "removing")); }

/* Also the bridges of networks marked removing (by this process, or by one
 * that was killed before it got here), whose records go once they have. */
static int delete_dying(const char *root, struct berr **err)
{
	if (!dying)
		dying = xcalloc(1, sizeof(char *));
	char **names = list_json(root, "networks");
	char **records = xcalloc(1, sizeof(char *));
	for (size_t i = 0; names[i]; i++) {
		char *path = network_path(root, names[i]);
		json_t *j = load(path);
		if (j && removing(j)) {
			if (!strv_contains(dying, jstr(j, "bridge")))
				strv_push(&dying, xstrdup(jstr(j, "bridge")));
			strv_push(&records, path);
			path = NULL;
		}
		json_decref(j);
		free(path);
	}
	strv_free(names);
	int r = 0;
	if (strv_len(dying) > 0) {
		struct nl_sock *sk = NULL;
		r = link_open(&sk, err);
		if (r == 0)
			r = link_delete_many(sk, dying, err);
		link_close(sk);
	}
	for (size_t i = 0; r == 0 && records[i]; i++)
		if (unlink(records[i]) < 0 && errno != ENOENT)
			r = berr_sys(err, errno, "cannot remove %s", records[i]);
	strv_free(records);
	strv_free(dying);
	dying = NULL;
	return r;
}

/* ---- networks ---- */

bool net_exists(const char *root, const char *name)
{
	_cleanup_free_ char *path = network_path(root, name);
	json_t *j = name_ok(name) ? load(path) : NULL;
	bool yes = j && !removing(j);
	json_decref(j);
	return yes;
}

char **net_list(const char *root, const char *project)
{
	char **all = list_json(root, "networks");
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; all[i]; i++) {
		_cleanup_free_ char *path = network_path(root, all[i]);
		json_t *j = load(path);
		if (j && !removing(j) && (!project || streq(jstr(j, "project"), project)))
			strv_push(&out, xstrdup(all[i]));
		json_decref(j);
	}
	strv_free(all);
	return out;
}

char *net_inspect(const char *root, const char *name)
{
	_cleanup_free_ char *path = network_path(root, name);
	json_t *j = name_ok(name) ? load(path) : NULL;
	if (!j)
		return NULL;
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

static int parse_net(json_t *j, struct cidr *subnet, struct cidr *range, uint32_t *gw)
{
	const char *s = jstr(j, "subnet"), *r = jstr(j, "ip_range");
	if (!s || cidr_parse(s, subnet) < 0)
		return -EINVAL;
	if (!r || cidr_parse(r, range) < 0)
		*range = *subnet;
	*gw = jip(j, "gateway");
	return 0;
}

/* Subnets of every berth network but `except`. */
static void berth_subnets(const char *root, const char *except, struct cidr **v, size_t *n)
{
	char **names = list_json(root, "networks");
	for (size_t i = 0; names[i]; i++) {
		if (except && streq(names[i], except))
			continue;
		_cleanup_free_ char *path = network_path(root, names[i]);
		json_t *j = load(path);
		struct cidr s, r;
		uint32_t gw;
		if (j && parse_net(j, &s, &r, &gw) == 0) {
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = s;
		}
		json_decref(j);
	}
	strv_free(names);
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, value, strlen(value)) < 0)
			log_warn("cannot set %s: %s", path, strerror(errno));
		close(fd);
	}
}

/* Forwarding must be on for NAT; turning it on is what Docker does too. */
static void enable_forwarding(void)
{
	_cleanup_free_ char *v = NULL;
	size_t len;
	if (fs_read_file("/proc/sys/net/ipv4/ip_forward", 16, &v, &len, NULL) == 0 && v[0] == '0') {
		write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
		fprintf(stderr, "berth: note: turned on net.ipv4.ip_forward, which containers on bridge networks need "
				"to reach the outside (as Docker does)\n");
	}
}

/* The kernel side of a network whose state exists: the bridge, its
 * address, 127.0.0.1 routable into it (for ports published there). */
/* The kernel keeps, with each bridge, which state root and network it is
 * for (its alias: "berth TABLE PROJECT/NETWORK"): a redundant index, so
 * that a bridge whose record was lost can still be found and removed. */
static char *alias_prefix(const char *root)
{
	_cleanup_free_ char *table = nat_table(root);
	return xasprintf("berth %s ", table);
}

static int make_bridge(const char *root, json_t *j, struct berr **err)
{
	struct cidr subnet, range;
	uint32_t gw;
	if (parse_net(j, &subnet, &range, &gw) < 0)
		return berr_set(err, EINVAL, "network %s: its state is damaged", jstr(j, "name"));
	const char *br = jstr(j, "bridge");
	_cleanup_free_ char *prefix = alias_prefix(root);
	_cleanup_free_ char *alias = xasprintf("%s%s/%s", prefix, jstr(j, "project") ? jstr(j, "project") : "",
					       jstr(j, "name"));
	struct nl_sock *sk = NULL;
	int r = link_open(&sk, err);
	if (r == 0)
		r = link_bridge_add(sk, br, alias, (int)json_integer_value(json_object_get(j, "mtu")), gw, subnet.prefix,
				    err);
	link_close(sk);
	if (r < 0)
		return r;
	_cleanup_free_ char *rl = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", br);
	write_sysctl(rl, "1");
	if (!json_is_true(json_object_get(j, "internal")))
		enable_forwarding();
	return 0;
}

static char *random_hex(size_t bytes)
{
	unsigned char b[16];
	if (bytes > sizeof(b) || getrandom(b, bytes, 0) != (ssize_t)bytes)
		memset(b, 0x5a, sizeof(b));
	struct buf out = {0};
	for (size_t i = 0; i < bytes; i++)
		buf_printf(&out, "%02x", b[i]);
	return buf_steal(&out);
}

static int pick_subnet(const char *root, const struct net_def *d, struct cidr *subnet, struct berr **err)
{
	struct cidr *used = NULL;
	size_t n = 0;
	berth_subnets(root, NULL, &used, &n);
	int r = 0;
	if (d->subnet) {
		if (cidr_parse(d->subnet, subnet) < 0)
			r = berr_set(err, EINVAL, "network %s: subnet %s is not an IPv4 CIDR such as 10.5.0.0/24",
				     d->name, d->subnet);
		for (size_t i = 0; r == 0 && i < n; i++)
			if (cidr_overlaps(*subnet, used[i])) {
				_cleanup_free_ char *o = cidr_format(used[i]);
				r = berr_set(err, EEXIST, "network %s: subnet %s overlaps %s of another berth network",
					     d->name, d->subnet, o);
			}
		/* traffic for it would go astray: the host routes part of it elsewhere */
		struct cidr *host = NULL;
		size_t nh = 0;
		if (r == 0)
			r = hostnet_used(&host, &nh, err);
		for (size_t i = 0; r == 0 && i < nh; i++)
			if (cidr_overlaps(*subnet, host[i])) {
				_cleanup_free_ char *o = cidr_format(host[i]);
				r = berr_set(err, EEXIST, "network %s: subnet %s overlaps %s, which the host already "
							  "routes; choose another subnet",
					     d->name, d->subnet, o);
			}
		free(host);
	} else {
		struct cidr *host = NULL;
		size_t nh = 0;
		r = hostnet_used(&host, &nh, err);
		if (r == 0) {
			used = xrealloc(used, (n + nh + 1) * sizeof(*used));
			memcpy(used + n, host, nh * sizeof(*host));
			r = ipam_pick_subnet(used, n + nh, subnet, err);
		}
		free(host);
	}
	free(used);
	return r < 0 ? berr_prefix(err, "network %s: ", d->name) : 0;
}

static json_t *new_network(const struct net_def *d, struct cidr subnet, struct berr **err)
{
	struct cidr range = subnet;
	uint32_t gw = 0;
	if (d->ip_range && (cidr_parse(d->ip_range, &range) < 0 || !cidr_contains(subnet, range.addr) ||
			    range.prefix < subnet.prefix)) {
		berr_set(err, EINVAL, "network %s: ip_range %s is not a range inside subnet %s", d->name, d->ip_range,
			 d->subnet);
		return NULL;
	}
	if (d->gateway && (ip_parse(d->gateway, &gw) < 0 || !cidr_contains(subnet, gw))) {
		berr_set(err, EINVAL, "network %s: gateway %s is not an address of the subnet", d->name, d->gateway);
		return NULL;
	}
	struct ipam m;
	if (ipam_init(&m, subnet, &range, gw, err) < 0) {
		berr_prefix(err, "network %s: ", d->name);
		return NULL;
	}
	gw = m.gateway;
	ipam_free(&m);
	_cleanup_free_ char *id = random_hex(16);
	_cleanup_free_ char *bridge = d->bridge ? xstrdup(d->bridge) : xasprintf("berth-%.8s", id);
	_cleanup_free_ char *s = cidr_format(subnet), *rg = cidr_format(range);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:o, s:o, s:I}", "name", d->name, "id", id,
			      "project", d->project ? d->project : "", "bridge", bridge, "subnet", s, "ip_range", rg,
			      "internal", d->internal, "mtu", d->mtu, "labels", kv_json(d->labels), "endpoints", json_object(),
			      "created_ms", (json_int_t)now_ms());
	if (d->no_icc)
		json_object_set_new(j, "icc", json_false());
	if (d->no_masquerade)
		json_object_set_new(j, "masquerade", json_false());
	if (d->reserved && d->reserved[0])
		json_object_set_new(j, "reserved", strv_json(d->reserved));
	set_ip(j, "gateway", gw);
	return j;
}

char *net_diverged(const char *root, const struct net_def *d)
{
	if (d->external || !name_ok(d->name))
		return NULL;
	_cleanup_free_ char *path = network_path(root, d->name);
	json_t *j = load(path);
	if (!j)
		return NULL;
	struct buf why = {0};
	const char *have[] = {jstr(j, "subnet"), jstr(j, "ip_range"), jstr(j, "gateway")};
	const char *want[] = {d->subnet, d->ip_range, d->gateway};
	static const char *const what[] = {"subnet", "ip_range", "gateway"};
	for (size_t i = 0; i < ARRAY_SIZE(what); i++) {
		struct cidr c;
		uint32_t ip;
		_cleanup_free_ char *norm = !want[i]			     ? NULL
					    : i < 2 && cidr_parse(want[i], &c) == 0 ? cidr_format(c)
					    : i == 2 && ip_parse(want[i], &ip) == 0 ? xstrdup(want[i])
										     : xstrdup(want[i]);
		if (norm && !streq(have[i], norm))
			buf_printf(&why, "%s%s %s, the file says %s", why.len ? "; " : "", what[i], have[i] ? have[i] : "none",
				   norm);
	}
	bool internal = json_is_true(json_object_get(j, "internal"));
	if (internal != d->internal)
		buf_printf(&why, "%sinternal %s, the file says %s", why.len ? "; " : "", internal ? "true" : "false",
			   d->internal ? "true" : "false");
	int mtu = (int)json_integer_value(json_object_get(j, "mtu"));
	if (mtu != d->mtu)
		buf_printf(&why, "%smtu %d, the file says %d", why.len ? "; " : "", mtu, d->mtu);
	bool no_icc = json_is_false(json_object_get(j, "icc")), no_masq = json_is_false(json_object_get(j, "masquerade"));
	if (no_icc != d->no_icc)
		buf_printf(&why, "%senable_icc %s, the file says %s", why.len ? "; " : "", no_icc ? "false" : "true",
			   d->no_icc ? "false" : "true");
	if (no_masq != d->no_masquerade)
		buf_printf(&why, "%senable_ip_masquerade %s, the file says %s", why.len ? "; " : "",
			   no_masq ? "false" : "true", d->no_masquerade ? "false" : "true");
	json_decref(j);
	return why.len ? buf_steal(&why) : (buf_free(&why), NULL);
}

int net_ensure(const char *root, const struct net_def *d, struct berr **err)
{
	if (!name_ok(d->name))
		return berr_set(err, EINVAL, "network name \"%s\" cannot be used: only letters, digits, \"_\", \".\" and "
					     "\"-\", starting with a letter or digit",
				d->name);
	int lock;
	int r = net_lock(root, &lock, err);
	if (r == 0)
		r = delete_dying(root, err); /* a bridge of that name may be among them */
	if (r < 0)
		return r;
	_cleanup_free_ char *path = network_path(root, d->name);
	json_t *j = load(path);
	bool created = false;
	if (j) {
		/* it exists: make sure the kernel still has it (after a reboot it does not) */
		const char *have = jstr(j, "subnet");
		if (d->subnet && !d->external && !streq(have, d->subnet))
			r = berr_set(err, EEXIST, "network %s exists with subnet %s, but the file asks for %s; remove it "
						  "first (berth down)",
				     d->name, have, d->subnet);
		if (r == 0)
			r = make_bridge(root, j, err);
	} else if (d->external) {
		r = berr_set(err, ENOENT, "network %s is declared as external, but could not be found; create it "
					  "first with `berth network create %s`, or let another project declare it",
			     d->name, d->name);
	} else {
		struct cidr subnet;
		r = pick_subnet(root, d, &subnet, err);
		if (r == 0 && !(j = new_network(d, subnet, err)))
			r = -EINVAL;
		if (r == 0 && !net_bridge_name_ok(jstr(j, "bridge")))
			r = berr_set(err, EINVAL, "network %s: bridge name \"%s\" cannot be used: up to 15 letters, digits, "
						  "'_', '.' and '-'",
				     d->name, jstr(j, "bridge"));
		struct nl_sock *sk = NULL;
		if (r == 0 && link_open(&sk, err) == 0 && link_exists(sk, jstr(j, "bridge")))
			r = berr_set(err, EEXIST, "network %s: a link named %s exists already and is not berth's", d->name,
				     jstr(j, "bridge"));
		link_close(sk);
		/* recorded before it is made, so that down can always find it */
		if (r == 0)
			r = save(path, j, true, err);
		created = r == 0;
		if (r == 0 && (r = make_bridge(root, j, err)) < 0) {
			if (link_open(&sk, NULL) == 0)
				link_delete(sk, jstr(j, "bridge"), NULL);
			link_close(sk);
			unlink(path);
		}
	}
	json_decref(j);
	close(lock);
	return r < 0 ? r : created;
}

/* Drops addresses held by containers that have no endpoint any more
 * (a killed attach or detach). */
static void gc_endpoints(const char *root, json_t *net)
{
	json_t *eps = json_object_get(net, "endpoints");
	const char *ctr;
	json_t *v, *tmp;
	json_object_foreach_safe(eps, tmp, ctr, v)
	{
		_cleanup_free_ char *ep = endpoint_path(root, ctr);
		if (!fs_exists(ep))
			json_object_del(eps, ctr);
	}
}

/* Bridges of this root whose network has no readable record (damaged, or
 * gone with a crash): those of the project (NULL: any), or the one of the
 * network named (NULL: any). Each is deleted; "BRIDGE NETWORK" of each is
 * returned, for the caller to say so. */
char **net_reclaim(const char *root, const char *project, const char *name, struct berr **err)
{
	char **out = xcalloc(1, sizeof(char *));
	struct nl_sock *sk = NULL;
	if (link_open(&sk, err) < 0)
		return out;
	_cleanup_free_ char *prefix = alias_prefix(root);
	char **found = link_by_alias(sk, prefix);
	for (size_t i = 0; found[i]; i++) {
		char *sp = strchr(found[i], ' '), *slash = sp ? strchr(sp + 1, '/') : NULL;
		if (!slash)
			continue;
		*sp = *slash = '\0';
		const char *br = found[i], *proj = sp + 1, *net = slash + 1;
		_cleanup_free_ char *path = network_path(root, net);
		json_t *j = name_ok(net) ? load(path) : NULL;
		bool lost = !j || !streq(jstr(j, "bridge"), br);
		json_decref(j);
		if (!lost || (project && !streq(proj, project)) || (name && !streq(net, name)))
			continue;
		if (link_delete(sk, br, NULL) == 0) {
			strv_push(&out, xasprintf("%s %s", br, net));
			if (name_ok(net))
				unlink(path); /* the damaged record, if there is one */
		}
	}
	strv_free(found);
	link_close(sk);
	return out;
}

char *net_reclaimed_msg(const char *entry)
{
	const char *sp = strchr(entry, ' ');
	return sp ? xasprintf("network %s had no readable record; its bridge %.*s is removed", sp + 1,
			      (int)(sp - entry), entry)
		  : xstrdup(entry);
}

char **net_users(const char *root, const char *name)
{
	char **out = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *path = network_path(root, name);
	json_t *j = load(path);
	const char *ctr;
	json_t *v;
	json_object_foreach(json_object_get(j, "endpoints"), ctr, v) strv_push(&out, xstrdup(ctr));
	json_decref(j);
	return out;
}

int net_remove(const char *root, const char *name, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = network_path(root, name);
	json_t *j = load(path);
	if (j) {
		gc_endpoints(root, j);
		json_t *eps = json_object_get(j, "endpoints");
		if (json_object_size(eps) > 0) {
			struct buf who = {0};
			const char *ctr;
			json_t *v;
			json_object_foreach(eps, ctr, v) buf_printf(&who, "%s%s", who.len ? ", " : "", ctr);
			r = berr_set(err, EBUSY, "network %s is still used by %s", name, who.s);
			buf_free(&who);
		}
		/* the bridge goes with the veths that went before it, by the next
		 * net_sync; until then the record says so, so that a killed
		 * berth leaves nothing that no record names */
		if (r == 0) {
			json_object_set_new(j, "removing", json_true());
			r = save(path, j, false, err);
		}
	}
	json_decref(j);
	close(lock);
	return r;
}

/* ---- endpoints ---- */

static uint32_t fnv32(const char *a, const char *b)
{
	uint32_t h = 2166136261u;
	for (const char *s = a; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (const char *s = b; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

/* Every published port of every endpoint but `except`'s. */
struct published {
	struct net_port *v;
	size_t n;
};

static void collect_ports(const char *root, const char *except, struct published *out)
{
	char **ctrs = list_json(root, "endpoints");
	for (size_t i = 0; ctrs[i]; i++) {
		if (except && streq(ctrs[i], except))
			continue;
		struct net_port *p;
		size_t n;
		if (net_ports(root, ctrs[i], &p, &n) < 0)
			continue;
		out->v = xrealloc(out->v, (out->n + n + 1) * sizeof(*p));
		memcpy(out->v + out->n, p, n * sizeof(*p));
		out->n += n;
		free(p);
	}
	strv_free(ctrs);
}

static bool clashes(const struct net_port *a, uint32_t ip, uint16_t port, bool udp)
{
	return a->udp == udp && a->host_port == port && (a->host_ip == 0 || ip == 0 || a->host_ip == ip);
}

bool net_port_clash(const struct net_port *a, const struct net_port *b)
{
	bool fixed = a->host_port && b->host_port && !a->host_port_end && !b->host_port_end;
	return fixed && clashes(a, b->host_ip, b->host_port, b->udp);
}

static bool published_taken(uint16_t port, bool udp, void *data)
{
	const struct published *pub = data;
	for (size_t i = 0; i < pub->n; i++)
		if (clashes(&pub->v[i], 0, port, udp))
			return true;
	return false;
}

static int port_refused(const char *service, uint32_t ip, uint16_t port, bool udp, const char *holder,
			struct berr **err)
{
	_cleanup_free_ char *addr = ip_format(ip);
	return berr_set(err, EADDRINUSE, "service %s: port %s:%u/%s is already in use by %s; stop it, or publish "
					 "another host port",
			service, addr, port, udp ? "udp" : "tcp", holder);
}

/* One host port against the other containers' and the host's sockets. */
static int check_port(const char *service, const struct published *pub, uint32_t ip, uint16_t port, bool udp,
		      struct berr **err)
{
	for (size_t i = 0; i < pub->n; i++)
		if (clashes(&pub->v[i], ip, port, udp))
			return port_refused(service, ip, port, udp, "another berth container", err);
	if (port_free(ip, port, udp))
		return 0;
	_cleanup_free_ char *holder = port_holder(port, udp);
	return port_refused(service, ip, port, udp, holder ? holder : "another program", err);
}

int net_check_ports(const char *root, const struct net_endpoint *e, struct berr **err)
{
	struct published pub = {0};
	collect_ports(root, e->container, &pub);
	int r = 0;
	for (size_t i = 0; r == 0 && i < e->nports; i++) {
		const struct net_port *p = &e->ports[i];
		if (p->host_port == 0 || p->host_port_end > p->host_port)
			continue; /* chosen when attached */
		r = check_port(e->service, &pub, p->host_ip, p->host_port, p->udp, err);
	}
	free(pub.v);
	return r;
}

/* Host ports for ranges and ephemeral ports, not taken by anyone. */
static int assign_ports(const char *root, struct net_endpoint *e, json_t *out, struct berr **err)
{
	struct published pub = {0};
	collect_ports(root, e->container, &pub);
	int r = 0;
	for (size_t i = 0; r == 0 && i < e->nports; i++) {
		struct net_port p = e->ports[i];
		if (p.host_port == 0) {
			r = port_ephemeral(p.host_ip, p.udp, published_taken, &pub, &p.host_port, err);
		} else if (p.host_port_end > p.host_port) {
			uint16_t found = 0;
			for (unsigned c = p.host_port; !found && c <= p.host_port_end; c++)
				if (!published_taken((uint16_t)c, p.udp, &pub) && port_free(p.host_ip, (uint16_t)c, p.udp))
					found = (uint16_t)c;
			if (!found)
				r = berr_set(err, EADDRINUSE, "service %s: every host port of %u-%u is in use", e->service,
					     p.host_port, p.host_port_end);
			p.host_port = found;
		} else {
			r = check_port(e->service, &pub, p.host_ip, p.host_port, p.udp, err);
		}
		if (r < 0)
			break;
		p.host_port_end = 0;
		pub.v = xrealloc(pub.v, (pub.n + 1) * sizeof(p));
		pub.v[pub.n++] = p;
		json_t *jp = json_pack("{s:i, s:i, s:s}", "host_port", p.host_port, "ctr_port", p.ctr_port, "proto",
				       p.udp ? "udp" : "tcp");
		set_ip(jp, "host_ip", p.host_ip);
		json_array_append_new(out, jp);
	}
	free(pub.v);
	return r;
}

/* An address on each network, recorded in the network's state. */
static int allocate(const char *root, struct net_endpoint *e, json_t *links, struct berr **err)
{
	for (size_t i = 0; i < e->nlinks; i++) {
		struct net_link *l = &e->links[i];
		_cleanup_free_ char *path = network_path(root, l->network);
		json_t *net = load(path);
		if (!net || removing(net)) {
			json_decref(net);
			return berr_set(err, ENOENT, "network %s does not exist", l->network);
		}
		gc_endpoints(root, net);
		struct cidr subnet, range;
		uint32_t gw;
		struct ipam m = {0};
		int r = parse_net(net, &subnet, &range, &gw) < 0
				? berr_set(err, EINVAL, "network %s: its state is damaged", l->network)
				: ipam_init(&m, subnet, &range, gw, err);
		json_t *eps = json_object_get(net, "endpoints");
		const char *ctr;
		json_t *v;
		json_object_foreach(eps, ctr, v)
		{
			uint32_t ip;
			if (r == 0 && ip_parse(json_string_value(v), &ip) == 0)
				ipam_claim(&m, ip, NULL);
		}
		size_t x;
		json_array_foreach(json_object_get(net, "reserved"), x, v)
		{
			uint32_t ip;
			if (r == 0 && ip_parse(json_string_value(v), &ip) == 0)
				ipam_claim(&m, ip, NULL); /* aux_addresses: the host's, never a container's */
		}
		uint32_t ip = 0;
		if (r == 0 && l->ip) {
			if (ip_parse(l->ip, &ip) < 0)
				r = berr_set(err, EINVAL, "ipv4_address %s is not an IPv4 address", l->ip);
			else
				r = ipam_claim(&m, ip, err);
		} else if (r == 0) {
			r = ipam_alloc(&m, &ip, err);
		}
		ipam_free(&m);
		if (r == 0) {
			l->addr = ip;
			l->gateway = gw;
			l->prefix = subnet.prefix;
			set_ip(eps, e->container, ip);
			r = save(path, net, false, err);
		}
		if (r == 0) {
			uint8_t mac[6] = {0x02, 0x42, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255};
			if (l->mac && !parse_mac(l->mac, mac))
				r = berr_set(err, EINVAL, "mac_address %s is not a MAC address such as 02:42:ac:11:00:02",
					     l->mac);
			char macs[18];
			snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
				 mac[4], mac[5]);
			char veth[16];
			snprintf(veth, sizeof(veth), "berthv%08x", fnv32(e->container, l->network));
			json_t *jl = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:i, s:o}", "network", l->network,
					       "bridge", jstr(net, "bridge"), "veth", veth, "mac", macs, "prefix",
					       subnet.prefix, "internal", json_is_true(json_object_get(net, "internal")),
					       "mtu", (int)json_integer_value(json_object_get(net, "mtu")), "aliases",
					       strv_json(l->aliases));
			set_ip(jl, "ip", ip);
			set_ip(jl, "gateway", gw);
			if (l->ifname)
				json_object_set_new(jl, "ifname", json_string(l->ifname));
			if (l->gw_priority)
				json_object_set_new(jl, "gw_priority", json_integer(l->gw_priority));
			if (l->link_local && l->link_local[0])
				json_object_set_new(jl, "link_local_ips", strv_json(l->link_local));
			if (l->sysctls && l->sysctls[0])
				json_object_set_new(jl, "sysctls", strv_json(l->sysctls));
			json_array_append_new(links, jl);
		}
		json_decref(net);
		if (r < 0)
			return berr_prefix(err, "service %s: network %s: ", e->service, l->network);
	}
	return 0;
}

static int detach_locked(const char *root, const char *ctr, struct berr **err)
{
	_cleanup_free_ char *path = endpoint_path(root, ctr);
	_cleanup_free_ char *ns = net_netns_path(root, ctr);
	json_t *j = load(path);
	json_t *links = json_object_get(j, "links");
	size_t i;
	json_t *l;
	if (!dying)
		dying = xcalloc(1, sizeof(char *));
	json_array_foreach(links, i, l) strv_push(&dying, xstrdup(jstr(l, "veth")));
	int r = netns_remove(ns, err);
	if (r == 0 && j && unlink(path) < 0 && errno != ENOENT)
		r = berr_sys(err, errno, "cannot remove %s", path);
	json_array_foreach(links, i, l)
	{
		_cleanup_free_ char *np = network_path(root, jstr(l, "network"));
		json_t *net = r == 0 ? load(np) : NULL;
		if (net && json_object_del(json_object_get(net, "endpoints"), ctr) == 0)
			save(np, net, false, NULL);
		json_decref(net);
	}
	json_decref(j);
	return r;
}

int net_detach(const char *root, const char *container, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	r = detach_locked(root, container, err);
	close(lock);
	return r;
}

struct if_sysctls {
	int nsfd;
	const char *ifname;
	json_t *list; /* "net.X.Y.IFNAME.Z=VALUE", checked by the planner */
};

/* In a child that joined the container's network namespace, where
 * /proc/sys/net is that namespace's. */
static int if_sysctls_child(void *arg, struct berr **err)
{
	struct if_sysctls *a = arg;
	if (setns(a->nsfd, CLONE_NEWNET) < 0)
		return berr_sys(err, errno, "cannot enter the container's network namespace");
	size_t i;
	json_t *v;
	json_array_foreach(a->list, i, v)
	{
		const char *s = json_string_value(v), *eq = s ? strchr(s, '=') : NULL;
		/* net.X.Y.IFNAME.Z: the dots are the path's slashes, IFNAME the interface */
		_cleanup_free_ char *name = eq ? xstrndup(s, (size_t)(eq - s)) : NULL;
		for (char *c = name; c && *c; c++)
			*c = *c == '.' ? '/' : *c;
		char *ifn = name ? strstr(name, "/IFNAME/") : NULL;
		if (!ifn)
			return berr_set(err, EINVAL, "sysctl %s is not of the form net.X.Y.IFNAME.Z=VALUE", s ? s : "");
		*ifn = 0;
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s/%s/%s", name, a->ifname, ifn + 8);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		size_t n = strlen(eq + 1);
		if (fd < 0 || write(fd, eq + 1, n) != (ssize_t)n)
			return berr_sys(err, errno, "cannot set sysctl %s of interface %s", s, a->ifname);
	}
	return 0;
}

static int plumb(const char *root, struct net_endpoint *e, json_t *links, struct berr **err)
{
	_cleanup_free_ char *ns = net_netns_path(root, e->container);
	struct nl_sock *inner = NULL, *host = NULL;
	int r = netns_create(ns, &inner, err);
	if (r == 0 && json_array_size(links))
		r = link_open(&host, err);
	_cleanup_close_ int nsfd = r == 0 ? open(ns, O_RDONLY | O_CLOEXEC) : -1;
	if (r == 0 && nsfd < 0)
		r = berr_sys(err, errno, "cannot open %s", ns);
	/* a veth, as a bridge, says whose it is: "berth TABLE CONTAINER" */
	_cleanup_free_ char *prefix = alias_prefix(root);
	_cleanup_free_ char *alias = xasprintf("%s%s", prefix, e->container);
	/* the default route: the network with the highest gw_priority that is
	 * not internal, the first of them on a tie */
	size_t i, gw = SIZE_MAX;
	json_t *l;
	json_array_foreach(links, i, l)
		if (!json_is_true(json_object_get(l, "internal")) &&
		    (gw == SIZE_MAX || json_integer_value(json_object_get(l, "gw_priority")) >
					    json_integer_value(json_object_get(json_array_get(links, gw), "gw_priority"))))
			gw = i;
	json_array_foreach(links, i, l)
	{
		if (r < 0)
			break;
		uint8_t mac[6];
		parse_mac(jstr(l, "mac"), mac);
		char ifname[16];
		snprintf(ifname, sizeof(ifname), "%s", jstr(l, "ifname") ? jstr(l, "ifname") : "");
		if (!ifname[0])
			snprintf(ifname, sizeof(ifname), "eth%u", (unsigned)(i & 0xffff));
		r = link_veth_add(host, jstr(l, "veth"), alias, jstr(l, "bridge"), nsfd, ifname, mac,
				  (int)json_integer_value(json_object_get(l, "mtu")), err);
		if (r == 0)
			r = link_configure(inner, ifname, jip(l, "ip"), (int)json_integer_value(json_object_get(l, "prefix")),
					   i == gw ? jip(l, "gateway") : 0, err);
		size_t x;
		json_t *ll;
		json_array_foreach(json_object_get(l, "link_local_ips"), x, ll)
		{
			uint32_t a;
			if (r == 0 && ip_parse(json_string_value(ll), &a) == 0)
				r = link_addr_add(inner, ifname, a, 16, err);
		}
		struct if_sysctls sc = {nsfd, ifname, json_object_get(l, "sysctls")};
		if (r == 0 && json_array_size(sc.list))
			r = fork_call(if_sysctls_child, &sc, err);
	}
	link_close(inner);
	link_close(host);
	return r;
}

int net_attach(const char *root, struct net_endpoint *e, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	r = detach_locked(root, e->container, err);
	if (r == 0)
		r = delete_dying(root, err); /* the same veth names come back */
	json_t *links = json_array(), *ports = json_array();
	if (r == 0)
		r = allocate(root, e, links, err);
	if (r == 0)
		r = assign_ports(root, e, ports, err);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "container", e->container, "project",
			      e->project ? e->project : "", "service", e->service ? e->service : "", "hostname",
			      e->hostname ? e->hostname : "", "links", links, "ports", ports, "dns_links",
			      strv_json(e->dns_links));
	if (e->no_service_name)
		json_object_set_new(j, "service_name", json_false());
	_cleanup_free_ char *path = endpoint_path(root, e->container);
	if (r == 0)
		r = save(path, j, false, err);
	if (r == 0)
		r = plumb(root, e, links, err);
	if (r < 0) {
		/* the addresses and anything made go again; the endpoint file names them */
		if (!fs_exists(path))
			save(path, j, false, NULL);
		detach_locked(root, e->container, NULL);
		delete_dying(root, NULL);
	}
	json_decref(j);
	close(lock);
	return r;
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int net_revive(const char *root, const char *container, struct berr **err)
{
	_cleanup_free_ char *ns = net_netns_path(root, container);
	_cleanup_free_ char *path = endpoint_path(root, container);
	struct statfs sf;
	if (!fs_exists(path) || (statfs(ns, &sf) == 0 && sf.f_type == NSFS_MAGIC))
		return 0; /* no namespace of its own, or the kernel has it */
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	json_t *j = load(path);
	json_t *links = json_object_get(j, "links");
	size_t i;
	json_t *l;
	/* the bridges of its networks first, as their records describe them */
	json_array_foreach(links, i, l)
	{
		_cleanup_free_ char *np = network_path(root, jstr(l, "network"));
		json_t *net = r == 0 ? load(np) : NULL;
		if (r == 0 && (!net || removing(net)))
			r = berr_set(err, ENOENT, "network %s of %s does not exist any more; recreate the container (berth "
						  "up --force-recreate)",
				     jstr(l, "network"), container);
		if (r == 0)
			r = make_bridge(root, net, err);
		json_decref(net);
	}
	if (r == 0)
		r = netns_remove(ns, err); /* the file is left; the namespace it held is not */
	if (r == 0)
		r = delete_dying(root, err);
	struct net_endpoint e = {.container = container};
	if (r == 0 && j)
		r = plumb(root, &e, links, err);
	if (r < 0)
		netns_remove(ns, NULL); /* half made: the next try starts again */
	json_decref(j);
	close(lock);
	return r < 0 ? berr_prefix(err, "cannot make the network of %s again: ", container) : 1;
}

json_t *net_endpoint_record(const char *root, const char *container)
{
	_cleanup_free_ char *path = endpoint_path(root, container);
	return load(path);
}

int net_ports(const char *root, const char *container, struct net_port **out, size_t *n)
{
	_cleanup_free_ char *path = endpoint_path(root, container);
	json_t *j = load(path);
	*out = NULL;
	*n = 0;
	if (!j)
		return -ENOENT;
	json_t *ports = json_object_get(j, "ports");
	*out = xcalloc(json_array_size(ports) + 1, sizeof(**out));
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p)(*out)[(*n)++] = (struct net_port){
		.host_ip = jip(p, "host_ip"),
		.host_port = (uint16_t)json_integer_value(json_object_get(p, "host_port")),
		.ctr_port = (uint16_t)json_integer_value(json_object_get(p, "ctr_port")),
		.udp = streq(jstr(p, "proto"), "udp"),
	};
	json_decref(j);
	return 0;
}

char *net_ports_format(const struct net_port *p, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ip = ip_format(p[i].host_ip);
		buf_printf(&b, "%s%s:%u->%u/%s", i ? ", " : "", ip, p[i].host_port, p[i].ctr_port,
			   p[i].udp ? "udp" : "tcp");
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

/* ---- the kernel's tables and the DNS records, from the state ---- */

struct netinfo {
	char *name, *bridge;
	struct cidr subnet;
	uint32_t gateway;
	bool internal;
};

static void add_record(struct buf *rec, uint32_t scope, const char *name, uint32_t ip)
{
	if (!name || !name[0])
		return;
	_cleanup_free_ char *s = ip_format(scope), *a = ip_format(ip);
	buf_printf(rec, "%s ", s);
	for (const char *c = name; *c; c++)
		buf_putc(rec, (char)tolower((unsigned char)*c));
	buf_printf(rec, " %s\n", a);
}

/* Names a container answers to on one network, scoped to its gateway. */
static void endpoint_records(struct buf *rec, json_t *ep, const struct netinfo *nets, size_t nn)
{
	size_t i, k;
	json_t *l, *a;
	json_array_foreach(json_object_get(ep, "links"), i, l)
	{
		const char *net = jstr(l, "network");
		for (size_t n = 0; n < nn; n++) {
			if (!streq(nets[n].name, net))
				continue;
			uint32_t ip = jip(l, "ip");
			/* every address of the container asks as a member of each of its networks */
			size_t m;
			json_t *ml;
			json_array_foreach(json_object_get(ep, "links"), m, ml)
			{
				_cleanup_free_ char *mine = ip_format(jip(ml, "ip")), *g = ip_format(nets[n].gateway);
				buf_printf(rec, "member %s %s\n", mine, g);
			}
			if (!json_is_false(json_object_get(ep, "service_name")))
				add_record(rec, nets[n].gateway, jstr(ep, "service"), ip);
			add_record(rec, nets[n].gateway, jstr(ep, "container"), ip);
			add_record(rec, nets[n].gateway, jstr(ep, "hostname"), ip);
			json_array_foreach(json_object_get(l, "aliases"), k, a)
				add_record(rec, nets[n].gateway, json_string_value(a), ip);
		}
	}
}

/* links: "target:alias", answered only to the container that has them,
 * with the target's addresses on the networks both share. */
static void link_records(struct buf *rec, json_t *ep, json_t **eps, size_t ne)
{
	size_t i, k, m;
	json_t *dl, *mine, *theirs;
	json_array_foreach(json_object_get(ep, "dns_links"), i, dl)
	{
		const char *s = json_string_value(dl);
		const char *colon = s ? strchr(s, ':') : NULL;
		_cleanup_free_ char *target = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s ? s : "");
		const char *alias = colon ? colon + 1 : target;
		for (size_t e = 0; e < ne; e++) {
			bool by_service = streq(jstr(eps[e], "service"), target) &&
					  !json_is_false(json_object_get(eps[e], "service_name"));
			if (!by_service && !streq(jstr(eps[e], "container"), target))
				continue;
			if (streq(jstr(eps[e], "service"), target) && !streq(jstr(eps[e], "project"), jstr(ep, "project")))
				continue;
			json_array_foreach(json_object_get(ep, "links"), k, mine)
				json_array_foreach(json_object_get(eps[e], "links"), m, theirs)
					if (streq(jstr(mine, "network"), jstr(theirs, "network")))
						add_record(rec, jip(mine, "ip"), alias, jip(theirs, "ip"));
		}
	}
}

/* Temporary files of a writer that was killed before its rename: under
 * the lock, nobody else is writing. */
static void sweep_tmp(const char *root)
{
	static const char *const dirs[] = {"networks", "endpoints", "dns"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *dir = sub(root, dirs[i]);
		DIR *d = opendir(dir);
		for (struct dirent *e; d && (e = readdir(d));) {
			if (!strstr(e->d_name, ".tmp."))
				continue;
			_cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
	}
}

int net_sync(const char *root, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r == 0)
		sweep_tmp(root);
	if (r == 0)
		r = delete_dying(root, err);
	if (r < 0)
		return r;
	char **names = list_json(root, "networks");
	char **ctrs = list_json(root, "endpoints");
	size_t nn = strv_len(names), ne = strv_len(ctrs);
	struct netinfo *nets = xcalloc(nn + 1, sizeof(*nets));
	struct nat_bridge *br = xcalloc(nn + 1, sizeof(*br));
	size_t k = 0;
	for (size_t i = 0; i < nn; i++) {
		_cleanup_free_ char *path = network_path(root, names[i]);
		json_t *j = load(path);
		struct cidr range;
		if (j && !removing(j) && parse_net(j, &nets[k].subnet, &range, &nets[k].gateway) == 0 &&
		    jstr(j, "bridge")) {
			nets[k].name = xstrdup(names[i]);
			nets[k].bridge = xstrdup(jstr(j, "bridge"));
			nets[k].internal = json_is_true(json_object_get(j, "internal"));
			br[k] = (struct nat_bridge){.name = nets[k].bridge, .subnet = nets[k].subnet,
						    .internal = nets[k].internal,
						    .no_icc = json_is_false(json_object_get(j, "icc")),
						    .no_masquerade = json_is_false(json_object_get(j, "masquerade"))};
			k++;
		}
		json_decref(j);
	}
	nn = k;
	json_t **eps = xcalloc(ne + 1, sizeof(*eps));
	struct nat_port *ports = NULL;
	size_t np = 0;
	struct buf rec = {0};
	for (size_t i = 0; i < nn; i++) {
		_cleanup_free_ char *gw = ip_format(nets[i].gateway);
		buf_printf(&rec, "listen %s\n", gw);
	}
	for (size_t i = 0; i < ne; i++) {
		_cleanup_free_ char *path = endpoint_path(root, ctrs[i]);
		eps[i] = load(path);
		/* ports lead to the address on the first network that is not internal */
		json_t *links = json_object_get(eps[i], "links"), *first = json_array_get(links, 0), *l;
		size_t x;
		json_array_foreach(links, x, l) if (!json_is_true(json_object_get(l, "internal"))) {
			first = l;
			break;
		}
		json_t *p;
		json_array_foreach(first ? json_object_get(eps[i], "ports") : NULL, x, p)
		{
			ports = xrealloc(ports, (np + 1) * sizeof(*ports));
			ports[np++] = (struct nat_port){
				.host_ip = jip(p, "host_ip"),
				.host_port = (uint16_t)json_integer_value(json_object_get(p, "host_port")),
				.ctr_port = (uint16_t)json_integer_value(json_object_get(p, "ctr_port")),
				.udp = streq(jstr(p, "proto"), "udp"),
				.ctr_ip = jip(first, "ip"),
			};
		}
		endpoint_records(&rec, eps[i], nets, nn);
	}
	for (size_t i = 0; i < ne; i++)
		link_records(&rec, eps[i], eps, ne);
	/* the ports of bridges whose containers must not reach each other */
	for (size_t b = 0; b < nn; b++) {
		if (!br[b].no_icc)
			continue;
		br[b].ports = xcalloc(1, sizeof(char *));
		for (size_t i = 0; i < ne; i++) {
			size_t x;
			json_t *l;
			json_array_foreach(json_object_get(eps[i], "links"), x, l)
				if (streq(jstr(l, "network"), nets[b].name) && jstr(l, "veth"))
					strv_push(&br[b].ports, xstrdup(jstr(l, "veth")));
		}
	}
	_cleanup_free_ char *table = nat_table(root);
	char *script = nat_ruleset(table, br, nn, ports, np);
	_cleanup_free_ char *cache = sub(root, "nft.applied");
	r = nat_apply(table, br, nn, script, cache, err);
	for (size_t b = 0; b < nn; b++)
		strv_free(br[b].ports);
	free(script);
	if (r == 0)
		r = dnsctl_update(root, rec.s ? rec.s : "", nn > 0, err);
	buf_free(&rec);
	for (size_t i = 0; i < ne; i++)
		json_decref(eps[i]);
	free(eps);
	for (size_t i = 0; i < nn; i++) {
		free(nets[i].name);
		free(nets[i].bridge);
	}
	free(nets);
	free(br);
	free(ports);
	strv_free(names);
	strv_free(ctrs);
	close(lock);
	return r;
}
