#include "ctr.h"
#include "events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/fs.h"
#include "../lib/buf.h"
#include "../lib/spawn.h"
#include "../volumes/volume.h"
#include "cgroup.h"

/* A name that is not valid never becomes a path: it maps to a directory
 * that ctr_create never makes, so every lookup finds nothing. */
char *ctr_dir(const char *root, const char *name)
{
	return name_valid(name) ? xasprintf("%s/containers/%s", root, name)
				: xasprintf("%s/containers/%%invalid", root);
}

char *ctr_shim_path(void)
{
	const char *env = getenv("BERTH_SHIM");
	if (env && env[0])
		return xstrdup(env);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return xstrdup("berth-shim");
	self[n] = '\0';
	_cleanup_free_ char *dir = path_dirname(self);
	return path_join(dir, "berth-shim");
}

bool ctr_exists(const char *root, const char *name)
{
	_cleanup_free_ char *d = ctr_dir(root, name);
	_cleanup_free_ char *spec = xasprintf("%s/spec.json", d);
	return fs_exists(spec);
}

int ctr_create(const char *root, const struct ctr_spec *s, struct berr **err)
{
	if (!name_valid(s->id))
		return berr_set(err, EINVAL,
				"\"%s\" is not a valid container name: use letters, digits, '_', '.' and "
				"'-', starting with a letter or digit",
				s->id ? s->id : "");
	_cleanup_free_ char *dir = ctr_dir(root, s->id);
	if (ctr_exists(root, s->id))
		return berr_set(err, EEXIST, "container %s exists already", s->id);
	/* the upper directory's root becomes the container's "/": 0755, as images have it */
	static const struct {
		const char *name;
		mode_t mode;
	} subdirs[] = {{"upper", 0755}, {"work", 0700}, {"rootfs", 0755}};
	int made = fs_mkdir_p(dir, 0700, err);
	if (made < 0)
		return made;
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *d = path_join(dir, subdirs[i].name);
		int r = fs_mkdir_p(d, subdirs[i].mode, err);
		if (r == 0 && chmod(d, subdirs[i].mode) < 0)
			r = berr_sys(err, errno, "cannot set the mode of %s", d);
		if (r < 0)
			return r;
	}
	chmod(dir, 0700);
	_cleanup_free_ char *path = path_join(dir, "spec.json");
	int r = spec_write(s, path, err);
	if (r == 0 && s->cgroup.parent) { /* where its cgroup is, for berth's side (ctr_cgroup) */
		_cleanup_free_ char *cg = cgroup_id(s->cgroup.parent, s->id), *cgf = path_join(dir, "cgroup");
		r = fs_write_atomic(cgf, cg, strlen(cg), 0600, err);
	}
	return r;
}

/* The id of the container's cgroup (cgroup_id): <dir>/cgroup when it has a
 * cgroup_parent, else its name. */
static char *cg_in(const char *dir, const char *name)
{
	_cleanup_free_ char *path = path_join(dir, "cgroup");
	char *text = NULL;
	size_t len;
	if (fs_read_file(path, 4096, &text, &len, NULL) < 0)
		return xstrdup(name);
	text[strcspn(text, "\n")] = 0;
	return text;
}

char *ctr_cgroup(const char *root, const char *name)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	return cg_in(dir, name);
}

/* A paused container resumes so that the signal just sent can end it. */
static void thaw(const char *cg)
{
	if (cgroup_frozen(cg))
		cgroup_freeze(cg, false, NULL);
}

static bool alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

/* Until the cgroup is empty, at most ms. */
static bool wait_empty(const char *cg, int64_t ms)
{
	for (int64_t t = 0; !cgroup_empty(cg); t += 20) {
		if (t >= ms)
			return false;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	return true;
}

/* Is pid the shim of the container in dir, and not a zombie? (kill(pid, 0)
 * succeeds on zombies, and pids are reused.) */
static bool shim_alive(pid_t pid, const char *dir)
{
	if (pid <= 0)
		return false;
	_cleanup_free_ char *cmdline = NULL, *stat = NULL;
	_cleanup_free_ char *cp = xasprintf("/proc/%d/cmdline", (int)pid), *sp = xasprintf("/proc/%d/stat", (int)pid);
	size_t clen, slen;
	if (fs_read_file(cp, 8192, &cmdline, &clen, NULL) < 0 || fs_read_file(sp, 8192, &stat, &slen, NULL) < 0)
		return false;
	const char *state = strrchr(stat, ')');
	if (!state || state[1] != ' ' || state[2] == 'Z' || state[2] == 'X')
		return false;
	size_t first = strlen(cmdline);
	return streq(path_basename(cmdline), "berth-shim") && first + 1 < clen && streq(cmdline + first + 1, dir);
}

/* The shim died unseen (kill -9, the OOM killer): while processes are
 * left in the container's cgroup it runs unmonitored, and nobody checks
 * its health any more; once none are, the record says so, with no
 * made-up exit status or time (nobody saw it end). */
static void shim_lost(const char *dir, const char *name, struct ctr_state *st)
{
	_cleanup_free_ char *cg = cg_in(dir, name);
	if (!cgroup_empty(cg)) {
		st->status = ST_RUNNING;
		st->unmonitored = true;
		if (st->health != HEALTH_NONE)
			st->health = HEALTH_UNKNOWN;
		if (!alive(st->pid))
			st->pid = 0;
		return;
	}
	bool was_running = st->status == ST_RUNNING;
	if (st->health != HEALTH_NONE)
		st->health = HEALTH_UNKNOWN;
	st->status = ST_EXITED;
	st->pid = 0;
	st->shim_pid = 0;
	if (was_running) {
		st->exit_code = EXIT_UNKNOWN;
		st->finished_at = 0; /* an earlier exit's time would be wrong, and now is not when it ended */
		free(st->error);
		st->error = xstrdup("its shim died (killed?) while it ran; how it exited is unknown");
	}
	state_write(dir, st, NULL);
}

int ctr_state(const char *root, const char *name, struct ctr_state *st, struct berr **err)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	int r = state_read(dir, st, err);
	if (r < 0)
		return r;
	if ((st->status == ST_RUNNING || st->status == ST_RESTARTING) && !shim_alive(st->shim_pid, dir)) {
		/* The shim writes its last record before it ends: read again now
		 * that it is seen ended, or a record read just before it wrote
		 * would be taken for a shim that died unseen. */
		state_free(st);
		r = state_read(dir, st, err);
		if (r < 0)
			return r;
		if ((st->status == ST_RUNNING || st->status == ST_RESTARTING) && !shim_alive(st->shim_pid, dir))
			shim_lost(dir, name, st);
	}
	_cleanup_free_ char *cg = st->status == ST_RUNNING ? cg_in(dir, name) : NULL;
	st->paused = cg && cgroup_frozen(cg);
	return 0;
}

bool ctr_up(const char *root, const char *name, pid_t *pid)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, NULL) < 0)
		return false;
	/* unmonitored: not up, so that up and start take it over */
	bool up = (st.status == ST_RUNNING || st.status == ST_RESTARTING) && !st.unmonitored;
	if (pid)
		*pid = st.status == ST_RUNNING ? st.pid : 0;
	state_free(&st);
	return up;
}

/* Whether a live shim holds the container (berth-shim locks shim.lock). */
static bool shim_locked(const char *dir)
{
	_cleanup_free_ char *path = path_join(dir, "shim.lock");
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

bool ctr_running(const char *root, const char *name)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, NULL) < 0)
		return false;
	bool running = st.status == ST_RUNNING || st.status == ST_RESTARTING;
	state_free(&st);
	return running;
}

int ctr_start_launch(const char *root, const char *name, const int *stdio, int *ready_out, struct berr **err)
{
	*ready_out = -1;
	_cleanup_free_ char *dir = ctr_dir(root, name);
	if (ctr_up(root, name, NULL) || shim_locked(dir))
		return 0; /* running, or a shim (one a killed berth started) is starting it */
	/* a shim killed unseen may have left its container running: stop it
	 * as stop would (its signal, its grace period), then start it anew */
	_cleanup_free_ char *cg = cg_in(dir, name);
	if (!cgroup_empty(cg)) {
		struct ctr_stopping s;
		if (ctr_stop_begin(root, name, -1, &s, NULL) == 0)
			ctr_stop_end(&s);
		cgroup_kill(cg);
		wait_empty(cg, 1000);
	}
	_cleanup_free_ char *shim = ctr_shim_path();
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot start %s", name);
	char *argv[] = {"berth-shim", dir, "3", NULL};
	pid_t pid;
	/* its own session, stdio on /dev/null unless attached (berth run), the ready pipe as fd 3 */
	int e = spawn_detached(shim, argv, ready[1], stdio, &pid);
	close(ready[1]);
	if (e != 0) {
		close(ready[0]);
		return berr_set(err, e, "the shim of %s did not start (is berth-shim installed beside berth?): %s",
				name, strerror(e));
	}
	*ready_out = ready[0];
	return 0;
}

int ctr_start_finish(const char *name, int ready, struct berr **err)
{
	if (ready < 0)
		return 0;
	char buf[2048];
	ssize_t n, total = 0;
	while ((n = read(ready, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0 || (n < 0 && errno == EINTR))
		total += n > 0 ? n : 0;
	close(ready);
	buf[total] = '\0';
	if (streq(buf, "ok"))
		return 0;
	if (total == 0)
		return berr_set(err, EIO, "the shim of %s did not start (is berth-shim installed beside berth?)", name);
	const char *msg = startswith(buf, "error ") ? strchr(buf + 6, ' ') : NULL;
	return berr_set(err, EIO, "%s", msg ? msg + 1 : buf);
}

int ctr_start(const char *root, const char *name, struct berr **err)
{
	int ready;
	int r = ctr_start_launch(root, name, NULL, &ready, err);
	return r < 0 ? r : ctr_start_finish(name, ready, err);
}

/* Wait for a process that is not our child to go away. */
/* Until the process behind the pidfd (or pid, without one) is gone, at most ms. */
static bool wait_gone(int fd, pid_t pid, int64_t ms)
{
	if (fd < 0)
		return !alive(pid);
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, ms > INT32_MAX ? INT32_MAX : (int)ms) > 0;
}

static void spec_stop(const char *dir, int64_t *timeout_ms, int *sig)
{
	_cleanup_free_ char *path = path_join(dir, "spec.json");
	struct ctr_spec s;
	*sig = SIGTERM;
	if (spec_read(path, &s, NULL) < 0) {
		*timeout_ms = *timeout_ms < 0 ? 10000 : *timeout_ms;
		return;
	}
	if (*timeout_ms < 0)
		*timeout_ms = s.stop_grace_ms;
	*sig = s.stop_signal > 0 ? s.stop_signal : SIGTERM;
	spec_free(&s);
}

int ctr_stop_begin(const char *root, const char *name, int64_t timeout_ms, struct ctr_stopping *out, struct berr **err)
{
	*out = (struct ctr_stopping){.name = xstrdup(name), .cg = ctr_cgroup(root, name), .pidfd = -1};
	struct ctr_state st;
	if (ctr_state(root, name, &st, err) < 0)
		return -EIO;
	pid_t shim = st.shim_pid, init = st.pid;
	bool running = st.status == ST_RUNNING || st.status == ST_RESTARTING, orphan = st.unmonitored;
	state_free(&st);
	_cleanup_free_ char *dir = ctr_dir(root, name);
	int sig;
	spec_stop(dir, &timeout_ms, &sig);
	out->timeout_ms = timeout_ms;
	if (running && orphan) {
		thaw(out->cg);
		/* its shim is gone: the stop signal and the grace period all the same */
		if (init > 0)
			kill(init, sig);
		else
			cgroup_signal(out->cg, sig);
		out->orphan_dir = xstrdup(dir);
		return 0;
	}
	if (!running || !shim_alive(shim, dir)) {
		cgroup_kill(out->cg);
		return 0;
	}
	out->shim = shim;
	out->pidfd = (int)syscall(SYS_pidfd_open, shim, 0);
	/* the shim stops it within timeout_ms, queued with the signal */
	if (sigqueue(shim, SIGTERM,
		     (union sigval){.sival_int = (int)(timeout_ms > INT32_MAX ? INT32_MAX : timeout_ms)}) < 0)
		kill(shim, SIGTERM);
	thaw(out->cg);
	return 0;
}

static void end_orphan(struct ctr_stopping *s)
{
	if (!wait_empty(s->cg, s->timeout_ms)) {
		cgroup_kill(s->cg);
		wait_empty(s->cg, 2000);
	}
	struct ctr_state st;
	if (state_read(s->orphan_dir, &st, NULL) == 0) {
		st.status = ST_EXITED;
		st.exit_code = EXIT_UNKNOWN;
		st.pid = st.shim_pid = 0;
		st.finished_at = now_ms();
		st.stopped_by_user = true;
		free(st.error);
		st.error = xstrdup("stopped after its shim had died; how it exited is unknown");
		state_write(s->orphan_dir, &st, NULL);
		state_free(&st);
	}
}

void ctr_stop_end(struct ctr_stopping *s)
{
	if (s->orphan_dir)
		end_orphan(s);
	if (s->shim > 0 && !wait_gone(s->pidfd, s->shim, s->timeout_ms + 2000)) {
		/* the shim is stuck: do its work */
		cgroup_kill(s->cg);
		if (!wait_gone(s->pidfd, s->shim, 2000)) {
			kill(s->shim, SIGKILL);
			wait_gone(s->pidfd, s->shim, 2000);
		}
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s->name);
	free(s->cg);
	free(s->orphan_dir);
	*s = (struct ctr_stopping){.pidfd = -1};
}

int ctr_stop(const char *root, const char *name, int64_t timeout_ms, struct berr **err)
{
	struct ctr_stopping s;
	int r = ctr_stop_begin(root, name, timeout_ms, &s, err);
	ctr_stop_end(&s);
	return r;
}

int ctr_kill(const char *root, const char *name, int sig, struct berr **err)
{
	pid_t pid;
	if (!ctr_up(root, name, &pid) || pid <= 0)
		return berr_set(err, ESRCH, "container %s is not running", name);
	/* through the shim, which then treats it as a user's stop (no restart
	 * policy brings the container back, as under Docker); directly when the
	 * container ignores the signal or there is no shim to ask */
	struct ctr_state st;
	pid_t shim = ctr_state(root, name, &st, NULL) == 0 ? st.shim_pid : 0;
	state_free(&st);
	_cleanup_free_ char *attrs = xasprintf("\"signal\":\"%d\"", sig);
	events_add(root, name, "kill", attrs);
	int r = 0;
	if (!(shim > 0 && sigqueue(shim, SIGUSR1, (union sigval){.sival_int = sig}) == 0) && kill(pid, sig) < 0)
		r = berr_sys(err, errno, "cannot signal container %s", name);
	/* a paused container killed ends (Docker's kill); other signals wait for unpause */
	if (r == 0 && sig == SIGKILL) {
		_cleanup_free_ char *cg = ctr_cgroup(root, name);
		thaw(cg);
	}
	return r;
}

int ctr_pause(const char *root, const char *name, bool pause, struct berr **err)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, err) < 0)
		return -EIO;
	bool running = st.status == ST_RUNNING, paused = st.paused;
	state_free(&st);
	if (!running)
		return berr_set(err, EINVAL, "container %s is not running", name);
	if (paused == pause)
		return berr_set(err, EINVAL, "container %s is %s", name, pause ? "already paused" : "not paused");
	_cleanup_free_ char *cg = ctr_cgroup(root, name);
	int r = cgroup_freeze(cg, pause, err);
	if (r == 0)
		events_add(root, name, pause ? "pause" : "unpause", NULL);
	return r;
}

int ctr_remove(const char *root, const char *name, bool force, struct berr **err)
{
	bool running = ctr_running(root, name);
	if (running && !force)
		return berr_set(err, EBUSY, "container %s is running; stop it first (or remove it with --force)", name);
	int r = running ? ctr_stop(root, name, 0, err) : 0;
	_cleanup_free_ char *cg = ctr_cgroup(root, name);
	if (r == 0)
		r = cgroup_remove(cg, err);
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *rootfs = path_join(dir, "rootfs");
	umount2(rootfs, MNT_DETACH); /* only if something mounted it on the host by mistake */
	if (r < 0)
		return r;
	return fs_discard(dir, err);
}

char **ctr_list(const char *root)
{
	char **names = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *d = xasprintf("%s/containers", root);
	_cleanup_(closedirp) DIR *dir = opendir(d);
	if (!dir)
		return names;
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.' && ctr_exists(root, e->d_name))
			strv_push(&names, xstrdup(e->d_name));
	return names;
}

char **ctr_layers_in_use(const char *root)
{
	char **out = xcalloc(1, sizeof(char *));
	char **names = ctr_list(root);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *dir = ctr_dir(root, names[i]);
		_cleanup_free_ char *path = path_join(dir, "spec.json");
		struct ctr_spec s;
		if (spec_read(path, &s, NULL) < 0)
			continue;
		for (size_t k = 0; s.layers && s.layers[k]; k++)
			if (!strv_contains(out, s.layers[k]))
				strv_push(&out, xstrdup(s.layers[k]));
		/* and those of its image volumes: a bound layer, or an overlay's lowerdirs */
		for (size_t m = 0; m < s.nmounts; m++) {
			const struct mount_spec *ms = &s.mounts[m];
			const char *low = ms->options ? strstr(ms->options, "lowerdir=") : NULL;
			if (ms->type && streq(ms->type, "overlay") && low) {
				_cleanup_free_ char *list = xstrndup(low + 9, strcspn(low + 9, ","));
				char *save = NULL;
				for (char *l = strtok_r(list, ":", &save); l; l = strtok_r(NULL, ":", &save))
					if (!strv_contains(out, l))
						strv_push(&out, xstrdup(l));
			} else if (ms->source && !ms->volume && !strv_contains(out, ms->source)) {
				strv_push(&out, xstrdup(ms->source)); /* a bind: only a layer's path ever matches one */
			}
		}
		spec_free(&s);
	}
	strv_free(names);
	return out;
}

int ctr_wait(const char *root, const char *name, int *exit_code, struct berr **err)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, err) < 0)
		return -EIO;
	pid_t shim = st.shim_pid;
	state_free(&st);
	_cleanup_free_ char *dir = ctr_dir(root, name);
	int fd = shim > 0 && shim_alive(shim, dir) ? (int)syscall(SYS_pidfd_open, shim, 0) : -1;
	if (fd >= 0) {
		struct pollfd pf = {fd, POLLIN, 0};
		while (poll(&pf, 1, -1) < 0 && errno == EINTR)
			;
		close(fd);
		waitpid(shim, NULL, WNOHANG); /* when berth started it, it is berth's child */
	}
	if (ctr_state(root, name, &st, err) < 0)
		return -EIO;
	*exit_code = st.exit_code;
	state_free(&st);
	return 0;
}

enum await_state { AWAIT_WAITING, AWAIT_MET, AWAIT_FAILED };

/* Where the container stands against what is awaited; *why: the cause
 * when it cannot be met any more (malloc'd). */
static enum await_state await_state(const char *root, const char *name, enum ctr_await what, char **why)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, NULL) < 0) {
		*why = xasprintf("container %s has no state", name);
		return AWAIT_FAILED;
	}
	enum await_state w = AWAIT_WAITING;
	bool ended = st.status == ST_EXITED || st.status == ST_DEAD;
	const char *last = st.nlog ? st.log[st.nlog - 1].output : NULL;
	if (what == AWAIT_COMPLETED) {
		if (ended)
			w = st.exit_code == 0 ? AWAIT_MET : AWAIT_FAILED;
		if (w == AWAIT_FAILED)
			*why = xasprintf("container %s exited (%d)", name, st.exit_code);
	} else if (st.status == ST_RUNNING && st.health == HEALTH_HEALTHY) {
		w = AWAIT_MET;
	} else if (st.status == ST_RUNNING && st.health == HEALTH_NONE) {
		*why = xasprintf("container %s has no healthcheck configured", name);
		w = AWAIT_FAILED;
	} else if (st.health == HEALTH_UNKNOWN) {
		*why = xasprintf("container %s runs unmonitored (its shim died): its health is unknown; restart it",
				 name);
		w = AWAIT_FAILED;
	} else if (st.health == HEALTH_UNHEALTHY) {
		*why = xasprintf("container %s is unhealthy%s%.*s", name, last && *last ? ": " : "",
				 last ? (int)strcspn(last, "\n") : 0, last ? last : "");
		w = AWAIT_FAILED;
	} else if (ended) {
		*why = xasprintf("container %s exited (%d)", name, st.exit_code);
		w = AWAIT_FAILED;
	}
	state_free(&st);
	return w;
}

int ctr_await(const char *root, const char *name, enum ctr_await what, struct berr **err)
{
	enum await_state w;
	_cleanup_free_ char *why = NULL;
	/* the shim records each change in state.json: a cheap read */
	while ((w = await_state(root, name, what, &why)) == AWAIT_WAITING)
		nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
	return w == AWAIT_MET ? 0 : berr_set(err, EIO, "%s", why ? why : "");
}

/* For up --wait: 1 ready (running, healthy when it has a check; or exited
 * 0), 0 not yet, -1 never (*why says why). */
static int ready_state(const char *root, const char *name, char **why)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, NULL) < 0) {
		*why = xasprintf("container %s has no state", name);
		return -1;
	}
	int r = 0;
	if (st.status == ST_RUNNING && (st.health == HEALTH_NONE || st.health == HEALTH_HEALTHY))
		r = 1;
	else if (st.status == ST_RUNNING && st.health == HEALTH_UNHEALTHY)
		*why = xasprintf("container %s is unhealthy", name), r = -1;
	else if (st.status == ST_RUNNING && st.health == HEALTH_UNKNOWN)
		*why = xasprintf("container %s runs unmonitored (its shim died): its health is unknown; restart it",
				 name),
		r = -1;
	else if ((st.status == ST_EXITED || st.status == ST_DEAD) && st.exit_code == 0)
		r = 1;
	else if (st.status == ST_EXITED || st.status == ST_DEAD)
		*why = xasprintf("container %s exited (%d)", name, st.exit_code), r = -1;
	else
		*why = xasprintf("container %s is %s", name,
				 st.status == ST_RUNNING ? "still starting (health: starting)"
							 : ctr_status_name(st.status));
	state_free(&st);
	return r;
}

int ctr_await_ready(const char *root, char *const *names, int64_t timeout_ms, struct berr **err)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		_cleanup_free_ char *why = NULL;
		for (size_t i = 0; names[i] && !why; i++) {
			int r = ready_state(root, names[i], &why);
			if (r < 0)
				return berr_set(err, EIO, "%s", why);
		}
		if (!why)
			return 0;
		if (deadline && now_ms() >= deadline)
			return berr_set(err, ETIMEDOUT, "%s", why);
		nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
	}
}

char **ctr_volume_users(const char *root, const char *name)
{
	char **out = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *cdir = xasprintf("%s/containers", root);
	_cleanup_free_ char *vdir = vol_dir(root, name);
	_cleanup_free_ char *prefix = xasprintf("%s/", vdir);
	_cleanup_free_ char *data = vol_data(root, name);
	_cleanup_(closedirp) DIR *d = opendir(cdir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s/spec.json", cdir, e->d_name);
		struct ctr_spec s;
		if (spec_read(path, &s, NULL) < 0)
			continue;
		bool uses = false;
		for (size_t i = 0; i < s.nmounts; i++)
			uses |= s.mounts[i].source &&
				(streq(s.mounts[i].source, data) || startswith(s.mounts[i].source, prefix) ||
				 (s.mounts[i].volume && streq(s.mounts[i].volume, name)));
		spec_free(&s);
		if (uses)
			strv_push(&out, xstrdup(e->d_name));
	}
	strv_sort(out);
	return out;
}

/* Refused while a container uses it, with --force too (as Docker does):
 * its data would go from under a container that still writes there. */
int ctr_volume_remove(const char *root, const char *name, bool force, struct berr **err)
{
	_cleanup_(strv_freep) char **users = vol_exists(root, name) ? ctr_volume_users(root, name) : NULL;
	if (users && users[0]) {
		struct buf who = {0};
		for (size_t i = 0; users[i]; i++)
			buf_printf(&who, "%s%s", i ? ", " : "", users[i]);
		int r = berr_set(err, EBUSY, "volume %s is in use by container %s; remove the container first", name,
				 who.s);
		buf_free(&who);
		return r;
	}
	return vol_delete(root, name, force, err);
}
