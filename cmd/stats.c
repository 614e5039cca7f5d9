/* berth stats: what the project's containers use, from their cgroups and
 * their veths, as docker compose stats shows it. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "../runtime/cgroup.h"
#include "../runtime/ctr.h"
#include "cli.h"
#include "format.h"
#include "table.h"

struct sample {
	struct cgroup_stats cg;
	int64_t rx, tx; /* as the container sees them */
	bool up;
};

/* A number of the veth's host end: what it sent, the container received. */
static int64_t veth_counter(const char *veth, const char *which)
{
	_cleanup_free_ char *p = xasprintf("/sys/class/net/%s/statistics/%s", veth, which), *text = NULL;
	size_t len;
	return fs_read_file(p, 64, &text, &len, NULL) == 0 ? atoll(text) : 0;
}

static void take(const char *root, const char *name, struct sample *s)
{
	*s = (struct sample){.up = ctr_running(root, name)};
	_cleanup_free_ char *cg = ctr_cgroup(root, name);
	if (!s->up || cgroup_stats(cg, &s->cg) < 0) {
		s->up = false;
		return;
	}
	_cleanup_(json_releasep) json_t *ep = net_endpoint_record(root, name);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(ep, "links"), i, l)
	{
		const char *veth = json_string_value(json_object_get(l, "veth"));
		if (veth) {
			s->rx += veth_counter(veth, "tx_bytes");
			s->tx += veth_counter(veth, "rx_bytes");
		}
	}
}

/* 1.5MiB: binary units, as docker shows memory. */
static char *binary(int64_t b)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	size_t i = 0;
	while (v >= 1024 && i + 1 < ARRAY_SIZE(u))
		v /= 1024, i++;
	return i ? xasprintf("%.4g%s", v, u[i]) : xasprintf("%lldB", (long long)b);
}

/* 1.2kB: decimal units, as docker shows network and block I/O. */
static char *decimal(int64_t b)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)b;
	size_t i = 0;
	while (v >= 1000 && i + 1 < ARRAY_SIZE(u))
		v /= 1000, i++;
	return i ? xasprintf("%.3g%s", v, u[i]) : xasprintf("%lldB", (long long)b);
}

static json_t *row(const struct ctr_info *c, const struct sample *a, const struct sample *b, int64_t wall_ns,
		   bool no_trunc)
{
	struct sysinfo si;
	sysinfo(&si);
	int64_t host_mem = (int64_t)si.totalram * si.mem_unit;
	int64_t limit = b->cg.memory_limit > 0 && b->cg.memory_limit < host_mem ? b->cg.memory_limit : host_mem;
	/* docker's CPU %: CPU time over wall time, 100% per CPU */
	double cpu = b->up && a->up && wall_ns > 0 ? 100.0 * (double)(b->cg.cpu_ns - a->cg.cpu_ns) / (double)wall_ns
						   : 0;
	double memp = b->up && limit > 0 ? 100.0 * (double)b->cg.memory / (double)limit : 0;
	_cleanup_free_ char *mu = binary(b->up ? b->cg.memory : 0), *ml = binary(b->up ? limit : 0);
	_cleanup_free_ char *rx = decimal(b->rx), *tx = decimal(b->tx);
	_cleanup_free_ char *br = decimal(b->cg.block_read), *bw = decimal(b->cg.block_write);
	_cleanup_free_ char *cpus = xasprintf("%.2f%%", cpu < 0 ? 0 : cpu), *mems = xasprintf("%.2f%%", memp);
	_cleanup_free_ char *mem = xasprintf("%s / %s", mu, ml), *net = xasprintf("%s / %s", rx, tx);
	_cleanup_free_ char *blk = xasprintf("%s / %s", br, bw),
			    *pids = xasprintf("%lld", (long long)(b->up ? b->cg.pids : 0));
	_cleanup_free_ char *id = no_trunc ? xstrdup(c->id) : xstrndup(c->id, 12);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk, "CPUPerc", cpus, "Container",
			 c->name, "ID", id, "MemPerc", mems, "MemUsage", mem, "Name", c->name, "NetIO", net, "PIDs",
			 pids);
}

static const char *const stats_fields[] = {"BlockIO",  "CPUPerc", "Container", "ID",   "MemPerc",
					   "MemUsage", "Name",    "NetIO",     "PIDs", NULL};

static volatile sig_atomic_t stop_stats;
static void on_signal(int sig) { stop_stats = sig; }

int cmd_stats(struct global_opts *g, int argc, char **argv)
{
	bool all = false, no_stream = false, no_trunc = false;
	const char *format = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"all", 'a', FLAG_BOOL, &all, NULL, "Show every container (default: the running ones)"},
		{"no-stream", 0, FLAG_BOOL, &no_stream, NULL, "Print one result and end"},
		{"no-trunc", 0, FLAG_BOOL, &no_trunc, NULL, "Do not truncate the output"},
		{"format", 0, FLAG_STR, &format, "FORMAT",
		 "table (default), json or a template such as '{{.MemUsage}}'"},
	};
	int rc = cmd_flags("stats", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth stats [OPTIONS] [SERVICE]",
			   "Show what the containers use: CPU, memory, network and block I/O, processes.");
	_cleanup_(strv_freep) char **names = pos;
	struct berr *err = NULL;
	struct format fmt;
	if (rc < 0)
		rc = format_flag("stats", format, stats_fields, &fmt);
	if (rc >= 0)
		return rc;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open_listing(g, names, &p, &err) < 0) {
		format_free(&fmt);
		return report(err);
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	const char *root = berth_root();
	bool tty = isatty(STDOUT_FILENO);
	while (!stop_stats) {
		size_t n = 0;
		struct ctr_info *list = apply_list(p, root, &n);
		struct sample *a = xcalloc(n + 1, sizeof(*a)), *b = xcalloc(n + 1, sizeof(*b));
		for (size_t i = 0; i < n; i++)
			take(root, list[i].name, &a[i]);
		int64_t t0 = now_ms();
		nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
		int64_t wall = (now_ms() - t0) * 1000000;
		json_t *rows = json_array();
		for (size_t i = 0; i < n; i++) {
			take(root, list[i].name, &b[i]);
			bool want = (!names || strv_contains(names, list[i].service)) && !list[i].oneoff &&
				    (all || b[i].up);
			if (want)
				json_array_append_new(rows, row(&list[i], &a[i], &b[i], wall, no_trunc));
		}
		if (!no_stream && tty && fmt.kind == FORMAT_TABLE)
			printf("\033[2J\033[H"); /* a fresh screen each round, as docker stats */
		if (fmt.kind == FORMAT_TABLE) {
			struct table tab;
			static const char *const header[] = {"CONTAINER ID",      "NAME",  "CPU %",
							     "MEM USAGE / LIMIT", "MEM %", "NET I/O",
							     "BLOCK I/O",         "PIDS"};
			static const char *const keys[] = {"ID",      "Name",  "CPUPerc", "MemUsage",
							   "MemPerc", "NetIO", "BlockIO", "PIDs"};
			table_init(&tab, ARRAY_SIZE(header), header);
			size_t i;
			json_t *r;
			json_array_foreach(rows, i, r)
			{
				const char *cells[ARRAY_SIZE(keys)];
				for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
					cells[k] = json_string_value(json_object_get(r, keys[k]));
				table_add(&tab, cells);
			}
			table_print(&tab);
		} else {
			format_print(&fmt, rows);
		}
		fflush(stdout);
		json_decref(rows);
		free(a);
		free(b);
		ctr_info_free(list, n);
		if (no_stream)
			break;
		nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
	}
	format_free(&fmt);
	return 0;
}
