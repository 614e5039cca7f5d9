#include "net_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/log.h"
#include "hostnet.h"
#include "link.h"
#include "nat.h"

/* ---- paths and files ---- */

char *net_sub(const char *root, const char *what) { return xasprintf("%s/net/%s", root, what); }
char *net_network_path(const char *root, const char *name) { return xasprintf("%s/net/networks/%s.json", root, name); }
char *net_endpoint_path(const char *root, const char *ctr) { return xasprintf("%s/net/endpoints/%s.json", root, ctr); }
char *net_netns_path(const char *root, const char *container) { return xasprintf("%s/net/netns/%s", root, container); }

int net_lock(const char *root, int *fd, struct berr **err)
{
	static const char *const dirs[] = {"networks", "endpoints", "netns", "dns"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = net_sub(root, dirs[i]);
		int r = fs_mkdir_p(d, 0700, err);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *path = net_sub(root, "lock");
	return fs_lock(path, fd, err);
}

json_t *net_load(const char *path) { return json_load_file(path, 0, NULL); }

/* Only a new network's record is synced to disk (durable): addresses,
 * endpoints and the removing mark describe links and namespaces that a
 * power cut takes away anyway, and every reader takes a file it cannot
 * read as one that is not there. */
int net_save(const char *path, json_t *j, bool durable, struct berr **err)
{
	char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r = (durable ? fs_write_atomic : fs_write_replace)(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

const char *net_jstr(json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

uint32_t net_jip(json_t *j, const char *key)
{
	uint32_t ip = 0;
	const char *s = net_jstr(j, key);
	if (s)
		ip_parse(s, &ip);
	return ip;
}

void net_set_ip(json_t *j, const char *key, uint32_t ip)
{
	char *s = ip_format(ip);
	json_object_set_new(j, key, json_string(s));
	free(s);
}

/* File names in a state directory without their .json suffix. */
char **net_list_json(const char *root, const char *what)
{
	_cleanup_free_ char *dir = net_sub(root, what);
	char **out = xcalloc(1, sizeof(char *));
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] != '.' && n > 5 && streq(e->d_name + n - 5, ".json"))
			strv_push(&out, xstrndup(e->d_name, n - 5));
	}
	strv_sort(out);
	return out;
}

char **net_endpoints(const char *root, const char *project)
{
	char **all = net_list_json(root, "endpoints");
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; all[i]; i++) {
		_cleanup_free_ char *path = xasprintf("%s/net/endpoints/%s.json", root, all[i]);
		_cleanup_(json_releasep) json_t *j = json_load_file(path, 0, NULL);
		if (streq(json_string_value(json_object_get(j, "project")), project))
			strv_push(&out, xstrdup(all[i]));
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

/* Host ends of veths that detach let go of ($ROOT/net/dying, a name a
 * line, written under the network lock), and bridges of removed networks:
 * deleted together by the next net_sync (or at once by a later attach or
 * ensure that needs the names). On disk rather than in memory, so that
 * what a killed berth let go of is deleted by the next one. */
void net_add_dying(const char *root, char *const *names)
{
	_cleanup_free_ char *path = net_sub(root, "dying");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct buf b = {0};
	for (size_t i = 0; names[i]; i++)
		buf_printf(&b, "%s\n", names[i]);
	if (fd >= 0 && b.len)
		fs_write_all(fd, b.s, b.len);
	buf_free(&b);
}

bool net_removing(json_t *net) { return json_is_true(json_object_get(net, "removing")); }

/* Also the bridges of networks marked removing (by this process, or by one
 * that was killed before it got here), whose records go once they have. */
/* Of the names the dying file lists, those the kernel says are this state
 * root's (their alias): the file is read back from disk, and whatever it
 * says, berth deletes no link it did not make. */
static void keep_ours(const char *root, struct nl_sock *sk, char **listed, char ***dying)
{
	_cleanup_free_ char *prefix = net_alias_prefix(root);
	_cleanup_(strv_freep) char **ours = link_by_alias(sk, prefix);
	for (size_t i = 0; listed[i]; i++)
		for (size_t k = 0; ours[k]; k++)
			if (strncmp(ours[k], listed[i], strlen(listed[i])) == 0 && ours[k][strlen(listed[i])] == ' ' &&
			    !strv_contains(*dying, listed[i]))
				strv_push(dying, xstrdup(listed[i]));
}

int net_delete_dying(const char *root, struct berr **err)
{
	_cleanup_free_ char *dying_path = net_sub(root, "dying");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_(strv_freep) char **listed = xcalloc(1, sizeof(char *));
	if (fs_read_file(dying_path, 1 << 20, &text, &len, NULL) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (net_bridge_name_ok(l) && !strv_contains(listed, l))
				strv_push(&listed, xstrdup(l));
	}
	char **dying = xcalloc(1, sizeof(char *));
	char **names = net_list_json(root, "networks");
	char **records = xcalloc(1, sizeof(char *));
	for (size_t i = 0; names[i]; i++) {
		char *path = net_network_path(root, names[i]);
		json_t *j = net_load(path);
		if (j && net_removing(j)) {
			if (!strv_contains(dying, net_jstr(j, "bridge")))
				strv_push(&dying, xstrdup(net_jstr(j, "bridge")));
			strv_push(&records, path);
			path = NULL;
		}
		json_decref(j);
		free(path);
	}
	strv_free(names);
	int r = 0;
	if (listed[0] || dying[0]) {
		struct nl_sock *sk = NULL;
		r = link_open(&sk, err);
		if (r == 0)
			keep_ours(root, sk, listed, &dying);
		if (r == 0 && dying[0])
			r = link_delete_many(sk, dying, err);
		link_close(sk);
	}
	if (r == 0 && unlink(dying_path) < 0 && errno != ENOENT)
		r = berr_sys(err, errno, "cannot remove %s", dying_path);
	for (size_t i = 0; r == 0 && records[i]; i++)
		if (unlink(records[i]) < 0 && errno != ENOENT)
			r = berr_sys(err, errno, "cannot remove %s", records[i]);
	strv_free(records);
	strv_free(dying);
	return r;
}

/* ---- networks ---- */

bool net_exists(const char *root, const char *name)
{
	_cleanup_free_ char *path = net_network_path(root, name);
	_cleanup_(json_releasep) json_t *j = name_ok(name) ? net_load(path) : NULL;
	bool yes = j && !net_removing(j);
	return yes;
}

char **net_list(const char *root, const char *project)
{
	char **all = net_list_json(root, "networks");
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; all[i]; i++) {
		_cleanup_free_ char *path = net_network_path(root, all[i]);
		_cleanup_(json_releasep) json_t *j = net_load(path);
		if (j && !net_removing(j) && (!project || streq(net_jstr(j, "project"), project)))
			strv_push(&out, xstrdup(all[i]));
	}
	strv_free(all);
	return out;
}

char *net_inspect(const char *root, const char *name)
{
	_cleanup_free_ char *path = net_network_path(root, name);
	_cleanup_(json_releasep) json_t *j = name_ok(name) ? net_load(path) : NULL;
	if (!j)
		return NULL;
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	return text;
}

int net_parse_net(json_t *j, struct cidr *subnet, struct cidr *range, uint32_t *gw)
{
	const char *s = net_jstr(j, "subnet"), *r = net_jstr(j, "ip_range");
	if (!s || cidr_parse(s, subnet) < 0)
		return -EINVAL;
	if (!r || cidr_parse(r, range) < 0)
		*range = *subnet;
	*gw = net_jip(j, "gateway");
	return 0;
}

/* Subnets of every berth network but `except`. */
static void berth_subnets(const char *root, const char *except, struct cidr **v, size_t *n)
{
	char **names = net_list_json(root, "networks");
	for (size_t i = 0; names[i]; i++) {
		if (except && streq(names[i], except))
			continue;
		_cleanup_free_ char *path = net_network_path(root, names[i]);
		_cleanup_(json_releasep) json_t *j = net_load(path);
		struct cidr s, r;
		uint32_t gw;
		if (j && net_parse_net(j, &s, &r, &gw) == 0) {
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = s;
		}
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
		log_warn("turned on net.ipv4.ip_forward, which containers on bridge networks need to reach the "
			 "outside (as Docker does)");
	}
}

/* The kernel side of a network whose state exists: the bridge, its
 * address, 127.0.0.1 routable into it (for ports published there). */
/* The kernel keeps, with each bridge, which state root and network it is
 * for (its alias: "berth TABLE PROJECT/NETWORK"): a redundant index, so
 * that a bridge whose record was lost can still be found and removed. */
char *net_alias_prefix(const char *root)
{
	_cleanup_free_ char *table = nat_table(root);
	return xasprintf("berth %s ", table);
}

int net_make_bridge(const char *root, json_t *j, struct berr **err)
{
	struct cidr subnet, range;
	uint32_t gw;
	if (net_parse_net(j, &subnet, &range, &gw) < 0)
		return berr_set(err, EINVAL, "network %s: its state is damaged", net_jstr(j, "name"));
	const char *br = net_jstr(j, "bridge");
	_cleanup_free_ char *prefix = net_alias_prefix(root);
	_cleanup_free_ char *alias = xasprintf("%s%s/%s", prefix, net_jstr(j, "project") ? net_jstr(j, "project") : "",
					       net_jstr(j, "name"));
	struct nl_sock *sk = NULL;
	int r = link_open(&sk, err);
	if (r == 0)
		r = link_bridge_add(sk, br, alias, (int)json_integer_value(json_object_get(j, "mtu")), gw,
				    subnet.prefix, err);
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
				r = berr_set(err, EEXIST,
					     "network %s: subnet %s overlaps %s, which the host already "
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
			      "internal", d->internal, "mtu", d->mtu, "labels", kv_json(d->labels), "endpoints",
			      json_object(), "created_ms", (json_int_t)now_ms());
	if (d->no_icc)
		json_object_set_new(j, "icc", json_false());
	if (d->no_masquerade)
		json_object_set_new(j, "masquerade", json_false());
	if (d->reserved && d->reserved[0])
		json_object_set_new(j, "reserved", strv_json(d->reserved));
	net_set_ip(j, "gateway", gw);
	return j;
}

char *net_diverged(const char *root, const struct net_def *d)
{
	if (d->external || !name_ok(d->name))
		return NULL;
	_cleanup_free_ char *path = net_network_path(root, d->name);
	_cleanup_(json_releasep) json_t *j = net_load(path);
	if (!j)
		return NULL;
	struct buf why = {0};
	const char *have[] = {net_jstr(j, "subnet"), net_jstr(j, "ip_range"), net_jstr(j, "gateway")};
	const char *want[] = {d->subnet, d->ip_range, d->gateway};
	static const char *const what[] = {"subnet", "ip_range", "gateway"};
	for (size_t i = 0; i < ARRAY_SIZE(what); i++) {
		struct cidr c;
		uint32_t ip;
		_cleanup_free_ char *norm = !want[i]                                ? NULL
					    : i < 2 && cidr_parse(want[i], &c) == 0 ? cidr_format(c)
					    : i == 2 && ip_parse(want[i], &ip) == 0 ? xstrdup(want[i])
										    : xstrdup(want[i]);
		if (norm && !streq(have[i], norm))
			buf_printf(&why, "%s%s %s, the file says %s", why.len ? "; " : "", what[i],
				   have[i] ? have[i] : "none", norm);
	}
	bool internal = json_is_true(json_object_get(j, "internal"));
	if (internal != d->internal)
		buf_printf(&why, "%sinternal %s, the file says %s", why.len ? "; " : "", internal ? "true" : "false",
			   d->internal ? "true" : "false");
	int mtu = (int)json_integer_value(json_object_get(j, "mtu"));
	if (mtu != d->mtu)
		buf_printf(&why, "%smtu %d, the file says %d", why.len ? "; " : "", mtu, d->mtu);
	bool no_icc = json_is_false(json_object_get(j, "icc")),
	     no_masq = json_is_false(json_object_get(j, "masquerade"));
	if (no_icc != d->no_icc)
		buf_printf(&why, "%senable_icc %s, the file says %s", why.len ? "; " : "", no_icc ? "false" : "true",
			   d->no_icc ? "false" : "true");
	if (no_masq != d->no_masquerade)
		buf_printf(&why, "%senable_ip_masquerade %s, the file says %s", why.len ? "; " : "",
			   no_masq ? "false" : "true", d->no_masquerade ? "false" : "true");
	return why.len ? buf_steal(&why) : (buf_free(&why), NULL);
}

int net_ensure(const char *root, const struct net_def *d, struct berr **err)
{
	if (!name_ok(d->name))
		return berr_set(err, EINVAL,
				"network name \"%s\" cannot be used: only letters, digits, \"_\", \".\" and "
				"\"-\", starting with a letter or digit",
				d->name);
	int lock;
	int r = net_lock(root, &lock, err);
	if (r == 0)
		r = net_delete_dying(root, err); /* a bridge of that name may be among them */
	if (r < 0)
		return r;
	_cleanup_free_ char *path = net_network_path(root, d->name);
	json_t *j = net_load(path);
	bool created = false;
	if (j) {
		/* it exists: make sure the kernel still has it (after a reboot it does not) */
		const char *have = net_jstr(j, "subnet");
		if (d->subnet && !d->external && !streq(have, d->subnet))
			r = berr_set(err, EEXIST,
				     "network %s exists with subnet %s, but the file asks for %s; remove it "
				     "first (berth down)",
				     d->name, have, d->subnet);
		if (r == 0)
			r = net_make_bridge(root, j, err);
	} else if (d->external) {
		r = berr_set(err, ENOENT,
			     "network %s is declared as external, but could not be found; create it "
			     "first with `berth network create %s`, or let another project declare it",
			     d->name, d->name);
	} else {
		struct cidr subnet;
		r = pick_subnet(root, d, &subnet, err);
		if (r == 0 && !(j = new_network(d, subnet, err)))
			r = -EINVAL;
		if (r == 0 && !net_bridge_name_ok(net_jstr(j, "bridge")))
			r = berr_set(err, EINVAL,
				     "network %s: bridge name \"%s\" cannot be used: up to 15 letters, digits, "
				     "'_', '.' and '-'",
				     d->name, net_jstr(j, "bridge"));
		struct nl_sock *sk = NULL;
		if (r == 0 && link_open(&sk, err) == 0 && link_exists(sk, net_jstr(j, "bridge")))
			r = berr_set(err, EEXIST, "network %s: a link named %s exists already and is not berth's",
				     d->name, net_jstr(j, "bridge"));
		link_close(sk);
		/* recorded before it is made, so that down can always find it */
		if (r == 0)
			r = net_save(path, j, true, err);
		created = r == 0;
		if (r == 0 && (r = net_make_bridge(root, j, err)) < 0) {
			if (link_open(&sk, NULL) == 0)
				link_delete(sk, net_jstr(j, "bridge"), NULL);
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
void net_gc_endpoints(const char *root, json_t *net)
{
	json_t *eps = json_object_get(net, "endpoints");
	const char *ctr;
	json_t *v, *tmp;
	json_object_foreach_safe(eps, tmp, ctr, v)
	{
		_cleanup_free_ char *ep = net_endpoint_path(root, ctr);
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
	_cleanup_free_ char *prefix = net_alias_prefix(root);
	char **found = link_by_alias(sk, prefix);
	for (size_t i = 0; found[i]; i++) {
		char *sp = strchr(found[i], ' '), *slash = sp ? strchr(sp + 1, '/') : NULL;
		if (!slash)
			continue;
		*sp = *slash = '\0';
		const char *br = found[i], *proj = sp + 1, *net = slash + 1;
		_cleanup_free_ char *path = net_network_path(root, net);
		json_t *j = name_ok(net) ? net_load(path) : NULL;
		bool lost = !j || !streq(net_jstr(j, "bridge"), br);
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
	_cleanup_free_ char *path = net_network_path(root, name);
	_cleanup_(json_releasep) json_t *j = net_load(path);
	const char *ctr;
	json_t *v;
	json_object_foreach(json_object_get(j, "endpoints"), ctr, v) strv_push(&out, xstrdup(ctr));
	return out;
}

int net_remove(const char *root, const char *name, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = net_network_path(root, name);
	json_t *j = net_load(path);
	if (j) {
		net_gc_endpoints(root, j);
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
			r = net_save(path, j, false, err);
		}
	}
	json_decref(j);
	close(lock);
	return r;
}
