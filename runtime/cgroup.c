#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "../lib/fs.h"

bool cgroup_is_v2(void) { return fs_exists("/sys/fs/cgroup/cgroup.controllers"); }

char **cgroup_paths(const char *id) { return cgroup_is_v2() ? cgroup_v2_paths(id) : cgroup_v1_paths(id); }

int cgroup_create(const char *id, const struct cgroup_spec *c, struct berr **err)
{
	return cgroup_is_v2() ? cgroup_v2_create(id, c, err) : cgroup_v1_create(id, c, err);
}

int cgroup_add(const char *id, pid_t pid, struct berr **err)
{
	char **paths = cgroup_paths(id);
	int r = 0;
	for (size_t i = 0; paths[i] && r == 0; i++) {
		_cleanup_free_ char *f = xasprintf("%s/cgroup.procs", paths[i]);
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
		_cleanup_close_ int fd = open(f, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)n) != n)
			r = berr_sys(err, errno, "cannot move process %d into cgroup %s", (int)pid, paths[i]);
	}
	strv_free(paths);
	return r;
}

static pid_t *read_pids(const char *dir, size_t *n)
{
	_cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir);
	FILE *fp = fopen(f, "re");
	pid_t *pids = NULL;
	*n = 0;
	if (!fp)
		return NULL;
	int p;
	while (fscanf(fp, "%d", &p) == 1) {
		pids = xrealloc(pids, (*n + 1) * sizeof(*pids));
		pids[(*n)++] = p;
	}
	fclose(fp);
	return pids;
}

void cgroup_signal(const char *id, int sig)
{
	char **paths = cgroup_paths(id);
	size_t n = 0;
	pid_t *pids = paths[0] ? read_pids(paths[0], &n) : NULL;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	strv_free(paths);
}

void cgroup_kill(const char *id)
{
	char **paths = cgroup_paths(id);
	if (paths[0]) {
		_cleanup_free_ char *killf = xasprintf("%s/cgroup.kill", paths[0]);
		_cleanup_close_ int fd = open(killf, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1", 1) != 1) {
			/* v1, or a kernel without cgroup.kill: kill what we see, a few rounds */
			for (int round = 0; round < 8; round++) {
				size_t n;
				pid_t *pids = read_pids(paths[0], &n);
				for (size_t i = 0; i < n; i++)
					kill(pids[i], SIGKILL);
				free(pids);
				if (n == 0)
					break;
			}
		}
	}
	strv_free(paths);
}

bool cgroup_empty(const char *id)
{
	char **paths = cgroup_paths(id);
	size_t n = 0;
	if (paths[0])
		free(read_pids(paths[0], &n));
	strv_free(paths);
	return n == 0;
}

int cgroup_remove(const char *id, struct berr **err)
{
	char **paths = cgroup_paths(id);
	int r = 0;
	for (size_t i = 0; paths[i] && r == 0; i++) {
		if (!fs_is_dir(paths[i]))
			continue;
		for (int tries = 0;; tries++) {
			if (rmdir(paths[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY || tries >= 200) {
				r = berr_sys(err, errno, "cannot remove cgroup %s", paths[i]);
				break;
			}
			cgroup_kill(id);
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		}
		/* the shared berth parent goes with the last container */
		_cleanup_free_ char *parent = path_dirname(paths[i]);
		if (r == 0)
			rmdir(parent);
	}
	strv_free(paths);
	return r;
}

bool cgroup_oom_killed(const char *id)
{
	char **paths = cgroup_paths(id);
	bool oom = false;
	for (size_t i = 0; paths[i] && !oom; i++) {
		const char *file = cgroup_is_v2() ? "memory.events" : "memory.oom_control";
		_cleanup_free_ char *f = xasprintf("%s/%s", paths[i], file);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (fs_read_file(f, 1 << 16, &text, &len, NULL) < 0)
			continue;
		const char *k = strstr(text, "oom_kill ");
		oom = k && atoll(k + 9) > 0;
	}
	strv_free(paths);
	return oom;
}

int cgroup_write(const char *dir, const char *file, const char *value, struct berr **err)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(value);
	if (fd < 0 || write(fd, value, (size_t)n) != n)
		return berr_sys(err, errno, "cannot set %s to %s", p, value);
	return 0;
}

int cgroup_write_int(const char *dir, const char *file, long long v, struct berr **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return cgroup_write(dir, file, buf, err);
}
