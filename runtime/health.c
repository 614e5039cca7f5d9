#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "enter.h"

static void arm(const struct health *h, int64_t ms)
{
	struct itimerspec it = {.it_value = {ms / 1000, (ms % 1000) * 1000000}};
	if (ms <= 0)
		it.it_value.tv_nsec = 1;
	timerfd_settime(h->timer, 0, &it, NULL);
}

/* During start_period checks come every start_interval; then every interval. */
static int64_t next_in(const struct ctr_spec *s, const struct ctr_state *st)
{
	bool early = now_ms() - st->started_at < s->health.start_period_ms;
	return early && s->health.start_interval_ms > 0 ? s->health.start_interval_ms : s->health.interval_ms;
}

void health_init(struct health *h, const struct ctr_spec *s)
{
	*h = (struct health){.timer = -1, .out = -1};
	if (s->health.test)
		h->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

void health_started(struct health *h, const struct ctr_spec *s, struct ctr_state *st)
{
	if (h->timer < 0)
		return;
	st->health = HEALTH_STARTING;
	st->failing_streak = 0;
	arm(h, next_in(s, st));
}

void health_stopped(struct health *h)
{
	if (h->timer < 0)
		return;
	struct itimerspec off = {0};
	timerfd_settime(h->timer, 0, &off, NULL);
	if (h->pid > 0)
		kill(h->pid, SIGKILL); /* reaped, and ignored, by the shim */
	h->pid = 0;
	if (h->out >= 0)
		close(h->out);
	h->out = -1;
}

void health_on_timer(struct health *h, const struct ctr_spec *s, const struct ctr_state *st)
{
	uint64_t n;
	if (read(h->timer, &n, sizeof(n)) < 0)
		return;
	if (h->pid > 0) { /* past its timeout */
		h->timed_out = true;
		kill(h->pid, SIGKILL);
		return;
	}
	if (st->status != ST_RUNNING || st->pid <= 0)
		return;
	_cleanup_free_ char *cg = cgroup_id(s->cgroup.parent, s->id);
	if (cgroup_frozen(cg)) { /* paused: no check, as under Docker */
		arm(h, next_in(s, st));
		return;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		arm(h, next_in(s, st));
		return;
	}
	h->start = now_ms();
	h->len = 0;
	h->timed_out = false;
	h->pid = enter_check(s, st->pid, s->health.test, p[1]);
	close(p[1]);
	if (h->pid <= 0) {
		h->pid = 0;
		close(p[0]);
		arm(h, next_in(s, st));
		return;
	}
	h->out = p[0];
	arm(h, s->health.timeout_ms);
}

void health_on_output(struct health *h)
{
	char drop[4096];
	ssize_t n;
	do {
		size_t room = sizeof(h->buf) - 1 - h->len;
		n = room ? read(h->out, h->buf + h->len, room) : read(h->out, drop, sizeof(drop));
		if (n > 0 && room)
			h->len += (size_t)n;
	} while (n > 0);
	if (n == 0) {
		close(h->out);
		h->out = -1;
	}
}

bool health_on_exit(struct health *h, const struct ctr_spec *s, struct ctr_state *st, pid_t pid, int status)
{
	if (h->pid <= 0 || pid != h->pid)
		return false;
	h->pid = 0;
	if (h->out >= 0) {
		health_on_output(h);
		if (h->out >= 0)
			close(h->out);
		h->out = -1;
	}
	h->buf[h->len] = '\0';
	int code = h->timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	char *output = h->timed_out
			       ? xasprintf("Health check exceeded timeout (%lldms)", (long long)s->health.timeout_ms)
			       : xstrdup(h->buf);
	health_log_add(st, h->start, now_ms(), code, output);
	/* Docker's rules: one success is healthy; failures count once the
	 * start period is over (or the container was healthy once) */
	if (code == 0) {
		st->health = HEALTH_HEALTHY;
		st->failing_streak = 0;
	} else if (st->health != HEALTH_STARTING || now_ms() - st->started_at >= s->health.start_period_ms) {
		if (++st->failing_streak >= s->health.retries)
			st->health = HEALTH_UNHEALTHY;
	}
	if (st->status == ST_RUNNING)
		arm(h, next_in(s, st));
	return true;
}
