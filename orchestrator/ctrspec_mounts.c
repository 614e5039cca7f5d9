/* A service's mounts as the container's: binds, volumes (and their
 * subpaths), image volumes, tmpfs, secrets and configs, and the files
 * berth writes for it (hosts, resolv.conf). */
#include "ctrspec_int.h"

#include <errno.h>
#include <sys/stat.h>

#include "../network/hostnet.h"
#include "../lib/fs.h"
#include "../runtime/rootfs.h"
#include "../volumes/volume.h"

static struct mount_spec *add_mount(struct ctr_spec *s, const char *source, const char *target, const char *type,
				    const char *options, bool file)
{
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof(*s->mounts));
	struct mount_spec *m = &s->mounts[s->nmounts++];
	*m = (struct mount_spec){source ? xstrdup(source) : NULL,
				 xstrdup(target),
				 type ? xstrdup(type) : NULL,
				 options ? xstrdup(options) : NULL,
				 file,
				 NULL,
				 false,
				 NULL,
				 false};
	return m;
}

/* "nosuid,nodev" and the rest, comma-joined. */
static char *join_opts(const char *a, const char *b, const char *c)
{
	struct buf o = {0};
	const char *parts[] = {a, b, c};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && parts[i][0])
			buf_printf(&o, "%s%s", o.len ? "," : "", parts[i]);
	return o.s ? buf_steal(&o) : NULL;
}

static int bind_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target, bool ro,
		      struct ctr_spec *s, struct berr **err)
{
	struct node *b = node_map_get(v, "bind");
	bool create = false;
	node_bool(node_map_get(b, "create_host_path"), &create);
	if (!source || source[0] != '/')
		return node_err(err, v, "service %s: bind mount of %s has no absolute source", c->service, target);
	if (!fs_exists(source)) {
		if (!create)
			return node_err(err, v,
					"service %s: bind source path %s does not exist; create it, or use the "
					"short syntax, which creates it",
					c->service, source);
		if (fs_mkdir_p(source, 0755, err) < 0)
			return berr_prefix(err, "service %s: ", c->service);
	}
	/* selinux z/Z relabels; there is no SELinux to tell here, so it is accepted and ignored */
	const char *prop = node_str(node_map_get(b, "propagation"));
	_cleanup_free_ char *o = join_opts(ro ? "ro" : NULL, prop, NULL);
	add_mount(s, source, target, "bind", o, !fs_is_dir(source));
	return 0;
}

/* The volume a mount of top-level volume `key` uses, as the file declares it. */
static struct node *volume_decl(const struct spec_ctx *c, const char *key)
{
	return node_map_get(node_map_get(c->project->doc, "volumes"), key);
}

/* A subpath: relative, and no ".." part (symlinks are refused when opened). */
static bool subpath_ok(const char *p)
{
	size_t n = strlen(p);
	return p[0] && p[0] != '/' && !streq(p, "..") && !startswith(p, "../") && !strstr(p, "/../") &&
	       !(n >= 3 && streq(p + n - 3, "/.."));
}

static int volume_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target, bool ro,
			struct ctr_spec *s, struct berr **err)
{
	bool nocopy = false;
	node_bool(node_map_get(node_map_get(v, "volume"), "nocopy"), &nocopy);
	struct node *subn = node_map_get(node_map_get(v, "volume"), "subpath");
	const char *subpath = node_str(subn);
	if (subpath && !subpath_ok(subpath))
		return node_err(err, subn,
				"service %s: volume subpath %s must be a relative path inside the volume, "
				"without ..",
				c->service, subpath);
	_cleanup_free_ char *anon = NULL;
	const char *name;
	char **opts = NULL;
	if (source) {
		struct node *decl = volume_decl(c, source);
		name = node_str(node_map_get(decl, "name"));
		if (!name)
			return node_err(err, v, "service %s: volume %s is not declared under the top-level volumes",
					c->service, source);
		bool external = false;
		node_bool(node_map_get(decl, "external"), &external);
		const char *driver = node_str(node_map_get(decl, "driver"));
		if (driver && !streq(driver, "local"))
			return node_err(err, node_map_get(decl, "driver"),
					"volume %s: driver %s is not supported; berth has the local driver", source,
					driver);
		/* an external volume's options are those it was made with */
		opts = node_kv(external ? NULL : node_map_get(decl, "driver_opts"));
	} else {
		/* an anonymous volume: the same one again when the container is made anew */
		for (size_t i = 0; c->anon_prev && c->anon_prev[i]; i++) {
			const char *eq = strrchr(c->anon_prev[i], '=');
			if (eq && strlen(target) == (size_t)(eq - c->anon_prev[i]) &&
			    strncmp(c->anon_prev[i], target, (size_t)(eq - c->anon_prev[i])) == 0)
				anon = xstrdup(eq + 1);
		}
		if (!anon)
			anon = vol_anon_name();
		if (c->anon_out)
			strv_push(c->anon_out, xasprintf("%s=%s", target, anon));
		name = anon;
	}
	char *src = NULL, *type = NULL, *o = NULL;
	int r = vol_source(c->root, name, opts, &src, &type, &o, err);
	strv_free(opts);
	if (r < 0)
		return berr_prefix(err, "service %s: ", c->service);
	_cleanup_free_ char *mo = join_opts(ro ? "ro" : NULL, o, NULL);
	if (subpath && type) {
		free(src), free(type), free(o);
		return node_err(err, subn,
				"service %s: volume %s is mounted by each container (driver_opts type); a "
				"subpath of it is not supported",
				c->service, name);
	}
	/* the subpath must be there before anything is made (the shim opens it again, safely, at each start) */
	struct mount_spec probe = {.source = src, .volume = (char *)name, .subpath = (char *)subpath};
	int sfd = subpath ? rootfs_subpath_open(&probe, err) : -1;
	if (subpath && sfd < 0) {
		free(src), free(type), free(o);
		return berr_prefix(err, "service %s: ", c->service);
	}
	if (sfd >= 0)
		close(sfd);
	struct mount_spec *m = add_mount(s, src, target, type ? type : "bind", mo, false);
	m->volume = xstrdup(name);
	m->subpath = subpath ? xstrdup(subpath) : NULL;
	/* content of the image goes into a new, empty volume, as Docker does (not into a subpath) */
	m->copyup = !nocopy && !type && !subpath;
	free(src);
	free(type);
	free(o);
	return 0;
}

/* type: image: the image's files, read-only, at target (its layers as a
 * read-only overlay; a single layer bound read-only), as Docker mounts an
 * image volume. The image is pulled with the service's (apply_pull). */
static int image_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target,
		       struct ctr_spec *s, struct berr **err)
{
	char *id = NULL;
	if (!source || !c->store || store_resolve(c->store, source, &id, NULL) < 0)
		return node_err(err, v,
				"service %s: volume image %s is not in the store (berth pull, or berth image pull "
				"%s)",
				c->service, source ? source : "(none)", source ? source : "IMAGE");
	struct image_config ic;
	int r = image_config_load(c->store, id, &ic, err);
	free(id);
	if (r < 0)
		return berr_prefix(err, "service %s: volume image %s: ", c->service, source);
	size_t n = strv_len(ic.layers);
	if (n == 0) {
		image_config_free(&ic);
		return node_err(err, v, "service %s: volume image %s has no layers to mount", c->service, source);
	}
	struct node *subn = node_map_get(node_map_get(v, "image"), "subpath");
	const char *subpath = node_str(subn);
	if (subpath && !subpath_ok(subpath)) {
		image_config_free(&ic);
		return node_err(err, subn,
				"service %s: image volume subpath %s must be a relative path inside the "
				"image, without ..",
				c->service, subpath);
	}
	struct mount_spec *m;
	if (n == 1) {
		m = add_mount(s, ic.layers[0], target, "bind", "ro", false);
	} else {
		struct buf o = {0};
		buf_puts(&o, "ro,lowerdir=");
		for (size_t i = 0; i < n; i++)
			buf_printf(&o, "%s%s", i ? ":" : "", ic.layers[i]);
		m = add_mount(s, "overlay", target, "overlay", o.s, false);
		buf_free(&o);
	}
	image_config_free(&ic);
	if (!subpath)
		return 0;
	/* there before anything is made; opened again, the same safe way, at each start */
	m->subpath = xstrdup(subpath);
	int fd = n == 1 ? rootfs_subpath_open(m, NULL) : rootfs_overlay_subpath_tree(m, NULL);
	struct stat st;
	bool dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	m->file = fd >= 0 && !dir;
	if (fd >= 0)
		close(fd);
	if (fd < 0)
		return node_err(err, subn, "service %s: image %s has no subpath %s (or a symlink on its way)",
				c->service, source, subpath);
	image_config_free(&ic);
	return 0;
}

/* An image's declared VOLUMEs get an anonymous volume each (filled from the
 * image, kept across recreation, removed by down -v), as Docker gives them,
 * unless the service mounts something at that path itself. */
static int image_volumes(const struct spec_ctx *c, struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; c->image->volumes && c->image->volumes[i]; i++) {
		_cleanup_free_ char *target = path_clean(c->image->volumes[i]);
		bool taken = target[0] != '/' || strstr(target, "..") || streq(target, "/");
		for (size_t k = 0; !taken && k < s->nmounts; k++)
			taken = streq(s->mounts[k].target, target);
		if (!taken && volume_mount(c, NULL, NULL, target, false, s, err) < 0)
			return -EIO;
	}
	return 0;
}

/* Mounts from volumes: and tmpfs:. */
int ctrspec_set_mounts(const struct spec_ctx *c, struct node *svc, struct ctr_spec *s, struct berr **err)
{
	struct node *t = node_map_get(svc, "tmpfs");
	for (size_t i = 0; t && t->kind == NODE_SEQ && i < t->n; i++) {
		const char *spec = node_str(t->items[i]);
		_cleanup_free_ char *target = xstrndup(spec, strcspn(spec, ":"));
		const char *opts = strchr(spec, ':');
		_cleanup_free_ char *o = join_opts("nosuid,nodev", opts ? opts + 1 : NULL, NULL);
		add_mount(s, "tmpfs", target, "tmpfs", o, false);
	}
	struct node *vols = node_map_get(svc, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
		struct node *v = vols->items[i];
		const char *type = node_str(node_map_get(v, "type"));
		const char *source = node_str(node_map_get(v, "source"));
		const char *target = node_str(node_map_get(v, "target"));
		bool ro = false;
		node_bool(node_map_get(v, "read_only"), &ro);
		int r = 0;
		if (streq(type, "tmpfs")) {
			struct node *tm = node_map_get(v, "tmpfs");
			long long size = ctrspec_bytes_of(node_map_get(tm, "size")), mode = -1;
			node_int(node_map_get(tm, "mode"), &mode);
			_cleanup_free_ char *sz = size ? xasprintf("size=%lld", size) : NULL;
			_cleanup_free_ char *md = mode >= 0 ? xasprintf("mode=%llo", mode) : NULL;
			_cleanup_free_ char *o = join_opts(ro ? "ro,nosuid,nodev" : "nosuid,nodev", sz, md);
			add_mount(s, "tmpfs", target, "tmpfs", o, false);
		} else if (streq(type, "bind")) {
			r = bind_mount(c, v, source, target, ro, s, err);
		} else if (streq(type, "volume")) {
			r = volume_mount(c, v, source, target, ro, s, err);
		} else if (streq(type, "image")) {
			r = image_mount(c, v, source, target, s, err);
		} else {
			r = node_err(err, v, "service %s: volumes[%zu]: type \"%s\" is not supported", c->service, i,
				     type ? type : "?");
		}
		if (r < 0)
			return r;
	}
	return image_volumes(c, s, err);
}

/* A secret's or config's content, from its top-level definition. */
int ctrspec_secret_content(const struct project *p, const char *kind, const char *name, struct node *decl, char **out,
			   size_t *len, struct berr **err)
{
	const char *file = node_str(node_map_get(decl, "file"));
	const char *env = node_str(node_map_get(decl, "environment"));
	const char *content = node_str(node_map_get(decl, "content"));
	bool external = false;
	node_bool(node_map_get(decl, "external"), &external);
	if (file) {
		if (fs_read_file(file, 16u << 20, out, len, err) < 0)
			return berr_prefix(err, "%s %s: ", kind, name);
		return 0;
	}
	if (env) {
		const char *v = env_get(&p->env, env);
		if (!v)
			return node_err(err, decl, "%s %s: environment variable %s is not set; set it where berth runs",
					kind, name, env);
		*out = xstrdup(v);
	} else if (content) {
		*out = xstrdup(content);
	} else {
		return node_err(err, decl, "%s %s: %s; give file, environment or content", kind, name,
				external ? "external ones live in a swarm, which berth does not have"
					 : "it has no source");
	}
	*len = strlen(*out);
	return 0;
}

/* secrets: at /run/secrets/NAME, configs: at /NAME (or their target),
 * read-only: copies in the state directory with their uid, gid and mode.
 * With s, checks them and adds the mounts; without, writes the copies
 * (once the state directory is made). */
int ctrspec_secrets(const struct project *p, const char *service, const char *cdir, struct ctr_spec *s,
		    struct berr **err)
{
	struct node *svc = project_service(p, service);
	static const struct {
		const char *key, *kind, *dir;
	} kinds[] = {{"secrets", "secret", "/run/secrets"}, {"configs", "config", ""}};
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		struct node *list = node_map_get(svc, kinds[k].key);
		struct node *decls = node_map_get(p->doc, kinds[k].key);
		for (size_t i = 0; list && list->kind == NODE_SEQ && i < list->n; i++) {
			struct node *it = list->items[i];
			const char *src = node_str(node_map_get(it, "source"));
			struct node *decl = node_map_get(decls, src ? src : "");
			if (!decl)
				return node_err(err, it, "service %s: %s %s is not declared", service, kinds[k].kind,
						src ? src : "?");
			_cleanup_free_ char *content = NULL;
			size_t len;
			if (ctrspec_secret_content(p, kinds[k].kind, src, decl, &content, &len, err) < 0)
				return berr_prefix(err, "service %s: ", service);
			const char *t = node_str(node_map_get(it, "target"));
			_cleanup_free_ char *target = t && t[0] == '/' ? xstrdup(t)
								       : xasprintf("%s/%s", kinds[k].dir, t ? t : src);
			long long uid = 0, gid = 0, mode = 0444;
			node_int(node_map_get(it, "uid"), &uid);
			node_int(node_map_get(it, "gid"), &gid);
			node_int(node_map_get(it, "mode"), &mode);
			_cleanup_free_ char *dir = xasprintf("%s/%s", cdir, kinds[k].key);
			_cleanup_free_ char *file = xasprintf("%s/%zu-%s", dir, i, src);
			if (s) {
				add_mount(s, file, target, "bind", "ro", true);
				continue;
			}
			int r = fs_mkdir_p(dir, 0700, err);
			if (r == 0)
				r = fs_write_replace(file, content, len, 0600, err);
			if (r == 0 &&
			    (chown(file, (uid_t)uid, (gid_t)gid) < 0 || chmod(file, (mode_t)(mode & 07777)) < 0))
				r = berr_sys(err, errno, "cannot set the owner and mode of %s", file);
			if (r < 0)
				return berr_prefix(err, "service %s: %s %s: ", service, kinds[k].kind, src);
		}
	}
	return 0;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf of the container, written
 * into its state directory once that exists (ctrspec_write_files). */
void ctrspec_etc_mounts(const struct spec_ctx *c, struct ctr_spec *s)
{
	static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", c->dir, files[i]);
		_cleanup_free_ char *dst = xasprintf("/etc/%s", files[i]);
		add_mount(s, src, dst, "bind", NULL, true);
	}
}

static void resolv_conf(struct node *svc, const struct ctr_spec *s, const struct net_endpoint *e, struct buf *out)
{
	struct node *dns = node_map_get(svc, "dns"), *search = node_map_get(svc, "dns_search");
	struct node *opts = node_map_get(svc, "dns_opt");
	if (streq(s->network, "host") && !dns && !search && !opts) {
		hostnet_resolv(out, true, false, true, true);
		return;
	}
	for (size_t i = 0; dns && dns->kind == NODE_SEQ && i < dns->n; i++)
		buf_printf(out, "nameserver %s\n", node_str(dns->items[i]) ?: "");
	if (!dns && e && e->nlinks) {
		/* berth's responder, on the gateway of the first network */
		_cleanup_free_ char *gw = ip_format(e->links[0].gateway);
		buf_printf(out, "nameserver %s\n", gw);
	}
	if (search && search->kind == NODE_SEQ && search->n) {
		buf_puts(out, "search");
		for (size_t i = 0; i < search->n; i++)
			buf_printf(out, " %s", node_str(search->items[i]) ?: "");
		buf_putc(out, '\n');
	}
	hostnet_resolv(out, !dns && !(e && e->nlinks), false, !search, false);
	/* names are tried as they are first, so that "db" never goes to the
	 * host's search domains upstream; as Docker does */
	bool ndots = false;
	for (size_t i = 0; opts && opts->kind == NODE_SEQ && i < opts->n; i++)
		ndots |= node_str(opts->items[i]) && startswith(opts->items[i]->str, "ndots");
	if (opts && opts->kind == NODE_SEQ && opts->n) {
		buf_puts(out, "options");
		for (size_t i = 0; i < opts->n; i++)
			buf_printf(out, " %s", node_str(opts->items[i]) ?: "");
		buf_putc(out, '\n');
	}
	if (!ndots && e && e->nlinks)
		buf_puts(out, "options ndots:0\n");
}

int ctrspec_write_files(const struct project *p, const char *service, const struct ctr_spec *s,
			const struct net_endpoint *e, struct berr **err)
{
	struct node *svc = project_service(p, service);
	_cleanup_free_ char *hn = xasprintf("%s/hostname", s->dir);
	_cleanup_free_ char *text = xasprintf("%s\n", s->hostname);
	int r = fs_write_replace(hn, text, strlen(text), 0644, err);
	struct buf hosts = {0};
	buf_printf(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	struct node *eh = node_map_get(svc, "extra_hosts");
	/* host-gateway: the host as the container reaches it, its first network's gateway (the host's own
	 * addresses with the host's network), as Docker's host-gateway is the host on its bridge */
	_cleanup_free_ char *gw = e && e->nlinks ? ip_format(e->links[0].gateway) : xstrdup("127.0.0.1");
	for (size_t i = 0; eh && eh->kind == NODE_SEQ && i < eh->n; i++) {
		const char *x = node_str(eh->items[i]);
		const char *eq = x ? strchr(x, '=') : NULL;
		if (eq)
			buf_printf(&hosts, "%s\t%.*s\n", streq(eq + 1, "host-gateway") ? gw : eq + 1, (int)(eq - x), x);
	}
	_cleanup_free_ char *self = e && e->nlinks ? ip_format(e->links[0].addr) : xstrdup("127.0.1.1");
	if (s->domainname)
		buf_printf(&hosts, "%s\t%s.%s %s\n", self, s->hostname, s->domainname, s->hostname);
	else
		buf_printf(&hosts, "%s\t%s\n", self, s->hostname);
	_cleanup_free_ char *hp = xasprintf("%s/hosts", s->dir);
	if (r == 0)
		r = fs_write_replace(hp, hosts.s, hosts.len, 0644, err);
	buf_free(&hosts);
	if (r == 0)
		r = ctrspec_secrets(p, service, s->dir, NULL, err);
	struct buf resolv = {0};
	resolv_conf(svc, s, e, &resolv);
	_cleanup_free_ char *rp = xasprintf("%s/resolv.conf", s->dir);
	if (r == 0)
		r = fs_write_replace(rp, resolv.s ? resolv.s : "", resolv.len, 0644, err);
	buf_free(&resolv);
	return r;
}
