/* berth ps: the project's containers, as docker compose ps lists them
 * (table, json, a template; filters by status and label). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "../lib/json.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../network/ipam.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "../runtime/spec.h"
#include "cli.h"
#include "format.h"
#include "table.h"

static char *ago_ms(int64_t ms, bool suffix)
{
	int64_t d = (now_ms() - ms) / 1000;
	const char *unit = "second";
	int64_t n = d;
	if (d >= 86400 * 2)
		n = d / 86400, unit = "day";
	else if (d >= 3600 * 2)
		n = d / 3600, unit = "hour";
	else if (d >= 120)
		n = d / 60, unit = "minute";
	if (d < 1)
		return xstrdup(suffix ? "Less than a second ago" : "Less than a second");
	return xasprintf("%lld %s%s%s", (long long)n, unit, n == 1 ? "" : "s", suffix ? " ago" : "");
}

/* "Up 3 seconds", "Exited (1) 2 seconds ago", as Docker words it. */
static char *ps_status_text(const struct ctr_state *st)
{
	_cleanup_free_ char *up = st->started_at ? ago_ms(st->started_at, false) : NULL;
	_cleanup_free_ char *ended = st->finished_at ? ago_ms(st->finished_at, true) : NULL;
	switch (st->status) {
	case ST_RUNNING:
		if (st->paused)
			return xasprintf("Up %s (Paused)", up ? up : "");
		return xasprintf("Up %s%s%s", up ? up : "", st->unmonitored ? " (unmonitored: its shim died)" : "",
				 st->health == HEALTH_STARTING    ? " (health: starting)"
				 : st->health == HEALTH_HEALTHY   ? " (healthy)"
				 : st->health == HEALTH_UNHEALTHY ? " (unhealthy)"
				 : st->health == HEALTH_UNKNOWN   ? " (health: unknown)"
								  : "");
	case ST_RESTARTING:
		return xasprintf("Restarting (%d) %s", st->exit_code, ended ? ended : "");
	case ST_EXITED:
		if (st->exit_code == EXIT_UNKNOWN)
			return xasprintf("Exited (unknown)%s%s", ended ? " " : "", ended ? ended : "");
		return xasprintf("Exited (%d) %s", st->exit_code, ended ? ended : "");
	default:
		return xstrdup("Created");
	}
}

/* As docker compose ps --format json has them. */
static json_t *publishers(const struct net_port *p, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ip = ip_format(p[i].host_ip);
		json_array_append_new(a,
				      json_pack("{s:s, s:i, s:i, s:s}", "URL", ip, "TargetPort", p[i].ctr_port,
						"PublishedPort", p[i].host_port, "Protocol", p[i].udp ? "udp" : "tcp"));
	}
	return a;
}

/* "2026-11-26 06:10:27 +0000 UTC", as docker prints CreatedAt. */
static char *created_at(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[64];
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	return xstrdup(s);
}

/* One container as docker compose ps --format json gives it. */
/* The ports it exposes (its image's EXPOSE and the service's expose, as
 * up recorded them) that are not published, as "80/tcp". */
static void exposed_ports(struct buf *b, const char *name, const struct net_port *ports, size_t np)
{
	_cleanup_(json_releasep) json_t *meta = apply_meta(berth_root(), name);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(meta, "exposed"), i, v)
	{
		unsigned port = 0;
		char proto[8] = "tcp";
		if (sscanf(json_string_value(v) ? json_string_value(v) : "", "%u/%7s", &port, proto) < 1)
			continue;
		bool published = false;
		for (size_t k = 0; k < np && !published; k++)
			published = ports[k].ctr_port == port && ports[k].udp == streq(proto, "udp");
		if (!published)
			buf_printf(b, "%s%u/%s", b->len ? ", " : "", port, proto);
	}
}

static json_t *ps_row(const char *project, const struct ctr_info *c, const struct ctr_state *st, bool no_trunc)
{
	const char *root = berth_root();
	_cleanup_free_ char *stext = ps_status_text(st);
	_cleanup_free_ char *ago = ago_ms(c->created_ms, true);
	_cleanup_free_ char *at = created_at(c->created_ms);
	struct net_port *ports = NULL;
	size_t np = 0;
	net_ports(root, c->name, &ports, &np);
	struct buf pb = {0};
	_cleanup_free_ char *published = net_ports_format(ports, np);
	buf_puts(&pb, published);
	exposed_ports(&pb, c->name, ports, np);
	_cleanup_free_ char *ptext = pb.s ? buf_steal(&pb) : xstrdup("");
	struct buf cmd = {0};
	for (size_t k = 0; c->argv[k]; k++)
		buf_printf(&cmd, "%s%s", k ? " " : "", c->argv[k]);
	/* quoted and cut at 20 columns, as docker ps shows a command */
	_cleanup_free_ char *cut = no_trunc ? xstrdup(cmd.s ? cmd.s : "") : table_cut(cmd.s ? cmd.s : "", 20);
	_cleanup_free_ char *quoted = xasprintf("\"%s\"", cut);
	buf_free(&cmd);
	_cleanup_(json_releasep) json_t *meta = apply_meta(root, c->name);
	struct buf labels = {0};
	const char *k;
	json_t *v;
	json_t *lmap = json_object_get(meta, "labels");
	json_object_foreach(lmap, k, v)
		buf_printf(&labels, "%s%s=%s", labels.s ? "," : "", k, json_string_value(v) ?: "");
	struct buf nets = {0};
	json_t *ep = net_endpoint_record(root, c->name);
	size_t i;
	json_array_foreach(json_object_get(ep, "links"), i, v)
		buf_printf(&nets, "%s%s", i ? "," : "", json_string_value(json_object_get(v, "network")) ?: "");
	json_decref(ep);
	struct buf vols = {0}, mounts = {0};
	size_t nlocal = 0;
	_cleanup_free_ char *dir = ctr_dir(root, c->name);
	_cleanup_free_ char *specp = path_join(dir, "spec.json");
	struct ctr_spec sp;
	if (spec_read(specp, &sp, NULL) == 0) {
		for (size_t m = 0; m < sp.nmounts; m++) {
			const char *name = sp.mounts[m].volume ? sp.mounts[m].volume : sp.mounts[m].source;
			bool own = sp.mounts[m].source && startswith(sp.mounts[m].source, dir); /* its /etc/hosts... */
			if ((!streq(sp.mounts[m].type ? sp.mounts[m].type : "bind", "bind") || own) &&
			    !sp.mounts[m].volume)
				continue;
			nlocal += sp.mounts[m].volume != NULL;
			_cleanup_free_ char *shown = no_trunc ? xstrdup(name) : table_cut(name, 20);
			buf_printf(&mounts, "%s%s", mounts.s ? "," : "", shown);
		}
		spec_free(&sp);
	}
	buf_printf(&vols, "%zu", nlocal);
	const char *state = st->paused ? "paused" : ctr_status_name(st->status);
	json_t *row = json_pack(
		"{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s}",
		"Command", quoted, "CreatedAt", at, "ExitCode", st->exit_code, "Health",
		st->health == HEALTH_NONE || st->status != ST_RUNNING ? "" : health_status_name(st->health), "ID",
		c->id, "Image", c->image, "Labels", labels.s ? labels.s : "", "LocalVolumes", vols.s, "Mounts",
		mounts.s ? mounts.s : "", "Name", c->name, "Names", c->name, "Networks", nets.s ? nets.s : "", "Ports",
		ptext, "Project", project, "Publishers", publishers(ports, np), "RunningFor", ago, "Service",
		c->service, "Size", "0B", "State", state, "Status", stext);
	json_object_set(row, "LabelsMap", json_is_object(lmap) ? lmap : json_object());
	buf_free(&labels);
	buf_free(&nets);
	buf_free(&vols);
	buf_free(&mounts);
	free(ports);
	return row;
}

static const char *const ps_fields[] = {"Command", "CreatedAt",    "ExitCode",   "Health",     "ID",      "Image",
					"Labels",  "LocalVolumes", "Mounts",     "Name",       "Names",   "Networks",
					"Ports",   "Project",      "Publishers", "RunningFor", "Service", "Size",
					"State",   "Status",       NULL};

static const char *const states[] = {"paused", "restarting", "removing", "running", "dead", "created", "exited", NULL};

/* --filter status=S or label=KEY[=VALUE]: whether row passes them all. */
static bool passes(char *const *filters, json_t *row)
{
	for (size_t i = 0; filters && filters[i]; i++) {
		const char *f = filters[i];
		if (startswith(f, "status=") && !streq(json_string_value(json_object_get(row, "State")), f + 7))
			return false;
		if (startswith(f, "label=")) {
			_cleanup_free_ char *key = xstrndup(f + 6, strcspn(f + 6, "="));
			const char *want = strchr(f + 6, '=');
			json_t *have = json_object_get(json_object_get(row, "LabelsMap"), key);
			if (!have || (want && !streq(json_string_value(have) ?: "", want + 1)))
				return false;
		}
	}
	return true;
}

int cmd_ps(struct global_opts *g, int argc, char **argv)
{
	bool all = false, quiet = false, services = false, no_trunc = false, orphans = true;
	const char *format = NULL;
	char **status = NULL, **filters = NULL, **pos = NULL;
	const struct flag flags[] = {
		{"all", 'a', FLAG_BOOL, &all, NULL, "Show stopped containers too"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show IDs"},
		{"services", 0, FLAG_BOOL, &services, NULL, "Show service names"},
		{"status", 0, FLAG_LIST, &status, "STATUS",
		 "Only containers in this state (paused, restarting, removing, running, dead, created, exited)"},
		{"filter", 0, FLAG_LIST, &filters, "FILTER", "status=STATE or label=KEY[=VALUE]; repeatable"},
		{"format", 0, FLAG_STR, &format, "FORMAT", "table (default), json or a template such as '{{.Name}}'"},
		{"no-trunc", 0, FLAG_BOOL, &no_trunc, NULL, "Do not truncate the output"},
		{"orphans", 0, FLAG_BOOL, &orphans, NULL,
		 "Show containers of services the file no longer has (default true; --orphans=false hides them)"},
	};
	int rc = cmd_flags("ps", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth ps [OPTIONS] [SERVICE...]",
			   "List containers.");
	_cleanup_(strv_freep) char **names = pos;
	_cleanup_(strv_freep) char **st_list = status;
	_cleanup_(strv_freep) char **fl = filters;
	struct format fmt = {0};
	struct berr *err = NULL;
	for (size_t i = 0; rc < 0 && st_list && st_list[i]; i++)
		if (!strv_contains((char **)states, st_list[i]))
			rc = usage_error(
				"ps", "--status takes paused, restarting, removing, running, dead, created or exited");
	for (size_t i = 0; rc < 0 && fl && fl[i]; i++) {
		if (startswith(fl[i], "status=") && strv_contains((char **)states, fl[i] + 7))
			continue;
		if (startswith(fl[i], "label=") && fl[i][6] && fl[i][6] != '=')
			continue;
		rc = usage_error("ps", "--filter takes status=STATE or label=KEY[=VALUE]");
	}
	if (rc < 0)
		rc = format_flag("ps", format, ps_fields, &fmt);
	if (rc >= 0)
		return rc;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open_listing(g, names, &p, &err) < 0) {
		format_free(&fmt);
		return report(err);
	}
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	_cleanup_(json_releasep) json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		struct ctr_state st;
		if (ctr_state(berth_root(), list[i].name, &st, NULL) < 0)
			continue;
		const char *sname = st.paused ? "paused" : ctr_status_name(st.status);
		bool running = st.status == ST_RUNNING || st.status == ST_RESTARTING;
		bool orphan = p->order && !project_service(p, list[i].service);
		bool show = (st_list ? strv_contains(st_list, sname) : (all || running || fl)) &&
			    (!names || strv_contains(names, list[i].service)) && (orphans || !orphan);
		json_t *row = show ? ps_row(p->name, &list[i], &st, no_trunc) : NULL;
		if (row && passes(fl, row))
			json_array_append_new(rows, row);
		else
			json_decref(row);
		state_free(&st);
	}
	ctr_info_free(list, n);
	size_t i;
	json_t *row;
	if (quiet || services) {
		char **seen = xcalloc(1, sizeof(char *));
		json_array_foreach(rows, i, row)
		{
			const char *v = json_string_value(json_object_get(row, quiet ? "ID" : "Service"));
			if (!strv_contains(seen, v))
				printf("%s\n", v);
			if (services)
				strv_push(&seen, xstrdup(v));
		}
		strv_free(seen);
	} else if (fmt.kind == FORMAT_TABLE) {
		struct table tab;
		static const char *const header[] = {"NAME",    "IMAGE",  "COMMAND", "SERVICE",
						     "CREATED", "STATUS", "PORTS"};
		static const char *const keys[] = {"Name",       "Image",  "Command", "Service",
						   "RunningFor", "Status", "Ports"};
		table_init(&tab, ARRAY_SIZE(header), header);
		json_array_foreach(rows, i, row)
		{
			const char *cells[ARRAY_SIZE(keys)];
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
				cells[k] = json_string_value(json_object_get(row, keys[k]));
			table_add(&tab, cells);
		}
		table_print(&tab);
	} else {
		json_array_foreach(rows, i, row) json_object_del(row, "LabelsMap");
		format_print(&fmt, rows);
	}
	format_free(&fmt);
	return 0;
}
