#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../images/imgcfg.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/util.h"
#include "../network/hostnet.h"
#include "../network/net.h"
#include "../runtime/caps.h"
#include "../runtime/ctr.h"
#include "../runtime/devices.h"
#include "../runtime/seccomp.h"
#include "../runtime/user.h"

const char *const brun_stubs[] = {"/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", NULL};

/* RUN's resolv.conf: on the build network, berth's DNS responder on its
 * gateway (which asks the host's resolvers, loopback stubs included),
 * then the host's search domains and options; with the host's network,
 * the host's file; without a network, the host's less what only the
 * host's loopback can reach. */
static char *resolv_text(bool host, uint32_t gateway)
{
	struct buf out = {0};
	if (gateway)
		buf_printf(&out, "nameserver %u.%u.%u.%u\n", gateway >> 24, (gateway >> 16) & 255, (gateway >> 8) & 255,
			   gateway & 255);
	/* the host's nameservers only where RUN can reach them */
	hostnet_resolv(&out, !gateway, host, true, true);
	return out.s ? buf_steal(&out) : xstrdup("");
}

static int write_etc(const struct brun *b, const char *dir, uint32_t addr, uint32_t gateway, struct berr **err)
{
	_cleanup_free_ char *hn = xasprintf("%s/hostname", dir);
	int r = fs_write_replace(hn, "buildkitsandbox\n", 16, 0644, err);
	struct buf hosts = {0};
	buf_puts(&hosts, "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (addr)
		buf_printf(&hosts, "%u.%u.%u.%u\tbuildkitsandbox\n", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
			   addr & 255);
	for (size_t i = 0; b->hosts && b->hosts[i]; i++)
		buf_printf(&hosts, "%s\n", b->hosts[i]);
	_cleanup_free_ char *hp = xasprintf("%s/hosts", dir);
	if (r == 0)
		r = fs_write_replace(hp, hosts.s, hosts.len, 0644, err);
	buf_free(&hosts);
	_cleanup_free_ char *rc = resolv_text(streq(b->network, "host"), gateway);
	_cleanup_free_ char *rp = xasprintf("%s/resolv.conf", dir);
	if (r == 0)
		r = fs_write_replace(rp, rc, strlen(rc), 0644, err);
	return r;
}

static void add_mount(struct ctr_spec *s, const struct mount_spec *m)
{
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof(*s->mounts));
	s->mounts[s->nmounts++] = (struct mount_spec){.source = xstrdup(m->source),
						      .target = xstrdup(m->target),
						      .type = xstrdup(m->type ? m->type : "bind"),
						      .options = m->options ? xstrdup(m->options) : NULL,
						      .file = m->file,
						      .subpath = m->subpath ? xstrdup(m->subpath) : NULL,
						      .subpath_in_root = m->subpath_in_root};
}

static int make_spec(const struct brun *b, const char *dir, struct ctr_spec *s, struct berr **err)
{
	*s = (struct ctr_spec){.id = xstrdup(b->name),
			       .dir = xstrdup(dir),
			       .layers = strv_copy(b->layers),
			       .argv = strv_copy(b->argv),
			       .env = strv_copy(b->env),
			       .cwd = xstrdup(b->cwd && b->cwd[0] ? b->cwd : "/"),
			       .hostname = xstrdup("buildkitsandbox"),
			       .caps = CAPS_DOCKER_DEFAULT,
			       .attach = true,
			       .restart = RESTART_NO,
			       .stop_signal = SIGKILL,
			       .stop_grace_ms = 0};
	s->seccomp = b->privileged ? NULL : xasprintf("%s/seccomp.bpf", dir);
	s->privileged = b->privileged;
	if (b->privileged)
		s->caps = CAPS_ALL;
	/* the devices cgroup as Docker's default container has it: a RUN that
	 * makes a node of a host disk (it may mknod) cannot open it */
	s->cgroup.devices = xcalloc(1, sizeof(char *));
	if (b->privileged)
		strv_push(&s->cgroup.devices, xstrdup("a *:* rwm"));
	for (size_t i = 0; !b->privileged && dev_docker_default[i]; i++)
		strv_push(&s->cgroup.devices, xstrdup(dev_docker_default[i]));
	s->shm_size = b->shm_size;
	s->rlimits = xcalloc(b->nrlimits + 1, sizeof(*s->rlimits));
	for (size_t i = 0; i < b->nrlimits; i++)
		s->rlimits[s->nrlimits++] = (struct rlimit_spec){xstrdup(b->rlimits[i].name), b->rlimits[i].soft,
								 b->rlimits[i].hard};
	int r = user_lookup(s->layers, b->user ? b->user : "", &s->uid, &s->gid, &s->groups, &s->ngroups, err);
	if (r < 0)
		return berr_prefix(err, "USER %s: ", b->user ? b->user : "");
	static const char *const etc[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", dir, etc[i]);
		_cleanup_free_ char *dst = xasprintf("/etc/%s", etc[i]);
		add_mount(s, &(struct mount_spec){.source = src, .target = dst, .file = true});
	}
	for (size_t i = 0; i < b->nmounts; i++)
		add_mount(s, &b->mounts[i]);
	return 0;
}

/* The build network, made the first time a step needs it. */
static int attach(const struct brun *b, uint32_t *addr, uint32_t *gateway, struct berr **err)
{
	struct net_def d = {.name = BUILD_NETWORK, .project = BUILD_NETWORK};
	int r = net_ensure(b->root, &d, err);
	if (r < 0)
		return r;
	struct net_link link = {.network = BUILD_NETWORK};
	link.aliases = xcalloc(1, sizeof(char *));
	struct net_endpoint e = {.container = b->name,
				 .project = BUILD_NETWORK,
				 .hostname = "buildkitsandbox",
				 .links = &link,
				 .nlinks = 1};
	e.dns_links = xcalloc(1, sizeof(char *));
	r = net_attach(b->root, &e, err);
	*addr = link.addr;
	*gateway = link.gateway;
	free(link.aliases);
	free(e.dns_links);
	return r < 0 ? r : net_sync(b->root, err);
}

void brun_network_release(const char *root)
{
	if (net_exists(root, BUILD_NETWORK) && net_remove(root, BUILD_NETWORK, NULL) == 0)
		net_sync(root, NULL);
}

/* The command's output until it closes it. */
static void pump(const struct brun *b, int fd)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (b->output)
			b->output(b->data, buf, (size_t)n);
	}
}

static int run_it(const struct brun *b, struct ctr_spec *s, int *code, struct berr **err)
{
	int r = 0;
	if (s->seccomp) {
		_cleanup_free_ char *cache = path_join(b->root, "seccomp");
		r = seccomp_write_bpf(NULL, s->caps, cache, s->seccomp, err);
	}
	int p[2] = {-1, -1};
	if (r == 0 && pipe2(p, O_CLOEXEC) < 0)
		r = berr_sys(err, errno, "cannot make a pipe");
	int stdio[3] = {-1, p[1], p[1]};
	int ready = -1;
	if (r == 0)
		r = ctr_start_launch(b->root, b->name, stdio, &ready, err);
	if (p[1] >= 0)
		close(p[1]);
	if (r == 0)
		r = ctr_start_finish(b->name, ready, err);
	if (r == 0)
		pump(b, p[0]);
	if (p[0] >= 0)
		close(p[0]);
	if (r == 0)
		r = ctr_wait(b->root, b->name, code, err);
	return r;
}

int brun_step(const struct brun *b, int *code, char **upper, struct berr **err)
{
	_cleanup_free_ char *dir = ctr_dir(b->root, b->name);
	struct ctr_spec s;
	int r = make_spec(b, dir, &s, err);
	bool own_net = !streq(b->network, "none") && !streq(b->network, "host");
	free(s.network);
	s.network = own_net ? net_netns_path(b->root, b->name) : xstrdup(b->network);
	uint32_t addr = 0, gateway = 0;
	if (r == 0)
		r = ctr_create(b->root, &s, err);
	bool made = r == 0;
	if (r == 0 && own_net)
		r = attach(b, &addr, &gateway, err);
	if (r == 0)
		r = write_etc(b, dir, addr, gateway, err);
	if (r == 0)
		r = run_it(b, &s, code, err);
	/* what it changed goes beside the containers, the rest with the container */
	if (r == 0) {
		*upper = xasprintf("%s/containers/.upper-%s", b->root, b->name);
		_cleanup_free_ char *from = path_join(dir, "upper");
		if (rename(from, *upper) < 0) {
			r = berr_sys(err, errno, "cannot keep what the step changed");
			free(steal_ptr(upper));
		}
	}
	struct berr *e = NULL;
	if (made && ctr_remove(b->root, b->name, true, &e) < 0 && r == 0)
		r = berr_set(err, e->code, "%s", e->msg);
	berr_free(e);
	if (own_net && net_detach(b->root, b->name, NULL) == 0)
		net_sync(b->root, NULL);
	spec_free(&s);
	return r;
}
