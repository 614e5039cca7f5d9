#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/util.h"
#include "ref.h"
#include "registry.h"
#include "unpack.h"

#define PARALLEL 3 /* layers at a time, as docker pulls them */
#define CONFIG_MAX (8 << 20)
#define LAYER_TRIES 3

/* ---- platforms ---- */

char *platform_host(void)
{
	struct utsname u;
	uname(&u);
	const char *m = u.machine;
	if (streq(m, "x86_64"))
		return xstrdup("linux/amd64");
	if (streq(m, "aarch64") || streq(m, "arm64"))
		return xstrdup("linux/arm64/v8");
	if (startswith(m, "armv7"))
		return xstrdup("linux/arm/v7");
	if (startswith(m, "armv6"))
		return xstrdup("linux/arm/v6");
	if (streq(m, "i686") || streq(m, "i386"))
		return xstrdup("linux/386");
	return xasprintf("linux/%s", m); /* ppc64le, s390x, riscv64 name themselves */
}

bool platform_valid(const char *p)
{
	size_t parts = 1;
	for (const char *c = p; *c; c++)
		parts += *c == '/';
	return p[0] && parts >= 2 && parts <= 3 && !strstr(p, "//") && p[strlen(p) - 1] != '/';
}

/* "os/arch[/variant]" split; variant "" when none. */
static void platform_split(const char *p, char **os, char **arch, char **variant)
{
	const char *a = strchr(p, '/');
	*os = xstrndup(p, (size_t)(a - p));
	a++;
	const char *v = strchr(a, '/');
	*arch = v ? xstrndup(a, (size_t)(v - a)) : xstrdup(a);
	*variant = xstrdup(v ? v + 1 : "");
}

/* The manifest of an index for the platform: os and architecture equal;
 * the variant equal, or (none asked) any, preferring arm64's v8 and the
 * highest arm. Attestations ("unknown/unknown") are never picked. */
json_t *platform_pick(json_t *manifests, const char *platform)
{
	_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
	platform_split(platform, &os, &arch, &variant);
	json_t *best = NULL;
	const char *best_variant = NULL;
	size_t i;
	json_t *m;
	json_array_foreach(manifests, i, m)
	{
		json_t *pl = json_object_get(m, "platform");
		const char *mo = json_string_value(json_object_get(pl, "os"));
		const char *ma = json_string_value(json_object_get(pl, "architecture"));
		const char *mv = json_string_value(json_object_get(pl, "variant"));
		if (!mo || !ma || !streq(mo, os) || !streq(ma, arch))
			continue;
		if (mv && variant[0] && !streq(mv, variant)) {
			/* arm/v7 runs v6 and v5 images; arm64 is v8 whether it says so or not */
			if (!(streq(arch, "arm") && mv[0] == 'v' && variant[0] == 'v' &&
			      atoi(mv + 1) < atoi(variant + 1)))
				continue;
		}
		if (!best || (mv && best_variant && strcmp(mv, best_variant) > 0) ||
		    (mv && variant[0] && streq(mv, variant))) {
			best = m;
			best_variant = mv;
		}
	}
	return best;
}

/* ---- progress ---- */

struct out {
	FILE *f;
	bool quiet;
	bool tty;     /* one line per layer, redrawn in place */
	char **lines; /* those lines, in layer order */
	size_t shown; /* how many of them are on the screen */
};

static void say(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void say(struct out *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fflush(o->f);
}

/* Layer index's line: on a terminal it is rewritten where it stands (the
 * cursor goes up to the block of layer lines and every line is drawn
 * again), else it is printed as one more line. */
static void layer_say(struct out *o, size_t index, const char *fmt, ...) _printf_(3, 4);
static void layer_say(struct out *o, size_t index, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return;
	if (!o->tty) {
		fprintf(o->f, "%s\n", text);
		free(text);
		fflush(o->f);
		return;
	}
	free(o->lines[index]);
	o->lines[index] = text;
	if (o->shown)
		fprintf(o->f, "\033[%zuA", o->shown);
	size_t n = 0;
	for (; o->lines[n]; n++)
		fprintf(o->f, "\033[2K%s\n", o->lines[n]);
	o->shown = n;
	fflush(o->f);
}

/* ---- one layer, in a child process ---- */

struct job {
	size_t index;
	char *digest, *diff_id, *media_type;
	char shortid[13];
	uint64_t size;
	pid_t pid;
	int fd;
	bool running, done, failed;
	struct buf in; /* what the child said, not yet a line */
	uint64_t got, total;
	int64_t last_said;
	char *error;
};

struct source {
	struct blob_stream *bs;
	struct sha256 md; /* the bytes handed out: the blob's digest, also when unpacking fails */
	int fd;           /* to the parent */
	int64_t last;
};

static void tell(int fd, const char *fmt, ...) _printf_(2, 3);
static void tell(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	ssize_t w;
	do
		w = write(fd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
}

static ssize_t source_read(void *ctx, void *buf, size_t n, struct berr **err)
{
	struct source *s = ctx;
	ssize_t k = blob_stream_read(s->bs, buf, n, err);
	if (k > 0)
		sha256_add(&s->md, buf, (size_t)k);
	int64_t now = now_ms();
	if (k >= 0 && now - s->last >= 200) {
		uint64_t done, total;
		blob_stream_progress(s->bs, &done, &total);
		tell(s->fd, "P %llu %llu", (unsigned long long)done, (unsigned long long)total);
		s->last = now;
	}
	return k;
}

static void write_size(const char *dest, uint64_t bytes)
{
	_cleanup_free_ char *size_file = xasprintf("%s.size", dest);
	char text[32];
	int n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)bytes);
	fs_write_atomic(size_file, text, (size_t)n, 0600, NULL);
}

/* The child's whole work: fetch, digest, unpack, check, commit. */
static int fetch_layer(struct store *st, struct registry *r, struct job *j, int fd)
{
	_cleanup_free_ char *tmp_parent = path_join(st->dir, "tmp");
	_cleanup_free_ char *dest = store_layer_path(st, j->diff_id);
	for (int attempt = 1;; attempt++) {
		struct berr *e = NULL;
		struct source src = {.fd = fd, .last = 0};
		sha256_begin(&src.md);
		int ret = blob_stream_open(r, j->digest, &src.bs, &e);
		char *tmp = NULL;
		char digest[72], diff_id[72];
		uint64_t bytes = 0;
		if (ret == 0)
			ret = layer_unpack_stream(source_read, &src, j->shortid, tmp_parent, &tmp, &bytes, digest,
						  diff_id, &e);
		if (ret < 0 && src.bs) {
			/* what the layer's bytes were, even where they would not unpack */
			struct berr *e2 = NULL;
			char chunk[1 << 16];
			for (ssize_t n; (n = source_read(&src, chunk, sizeof(chunk), &e2)) > 0;)
				;
			berr_free(e2);
			char got[72] = "sha256:";
			sha256_hex(&src.md, got + 7);
			if (!streq(got, j->digest)) {
				berr_free(e);
				e = NULL;
				ret = berr_set(&e, EBADMSG, "layer %s does not match its digest: expected %s, got %s",
					       j->shortid, j->digest, got);
			}
		}
		blob_stream_close(src.bs);
		if (ret == 0 && !streq(digest, j->digest))
			ret = berr_set(&e, EBADMSG, "layer %s does not match its digest: expected %s, got %s",
				       j->shortid, j->digest, digest);
		if (ret == 0 && !streq(diff_id, j->diff_id))
			ret = berr_set(&e, EBADMSG,
				       "layer %s does not match the image's config: its content is %s, the "
				       "config says %s",
				       j->shortid, diff_id, j->diff_id);
		if (ret == 0) {
			tell(fd, "V");
			ret = layer_commit(tmp, dest, &e);
			tmp = NULL;
		}
		layer_discard(tmp);
		if (ret == 0) {
			write_size(dest, bytes);
			tell(fd, "D %llu", (unsigned long long)bytes);
			return 0;
		}
		bool again = attempt < LAYER_TRIES && e && e->code == EIO;
		if (!again) {
			tell(fd, "E %s", e ? e->msg : "failed");
			berr_free(e);
			return -1;
		}
		berr_free(e);
		tell(fd, "R %d", attempt);
	}
}

static int start_job(struct store *st, struct registry *r, struct job *j, struct berr **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot pull layer %s", j->shortid);
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return berr_sys(err, errno, "cannot pull layer %s", j->shortid);
	}
	if (pid == 0) {
		/* a pull killed midway takes its layer fetchers with it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		_exit(fetch_layer(st, r, j, p[1]) == 0 ? 0 : 1);
	}
	close(p[1]);
	j->pid = pid;
	j->fd = p[0];
	j->running = true;
	return 0;
}

static void bar(struct out *o, struct job *j)
{
	_cleanup_free_ char *a = human_bytes(j->got), *b = j->total ? human_bytes(j->total) : NULL;
	char meter[53] = "";
	if (o->tty && j->total) { /* [=====>      ] as docker draws it */
		size_t w = 50, k = (size_t)(w * (j->got > j->total ? j->total : j->got) / j->total);
		meter[0] = '[';
		for (size_t i = 0; i < w; i++)
			meter[1 + i] = i < k ? '=' : i == k ? '>' : ' ';
		meter[w + 1] = ']';
		meter[w + 2] = '\0';
	}
	layer_say(o, j->index, "%s: Downloading %s%s%s%s%s", j->shortid, meter, meter[0] ? "  " : "", a, b ? "/" : "",
		  b ? b : "");
}

/* One line the child said. */
static void heard(struct out *o, struct job *j, char *line)
{
	if (line[0] == 'P') {
		unsigned long long g = 0, t = 0;
		sscanf(line + 1, "%llu %llu", &g, &t);
		j->got = g;
		j->total = t ? t : j->size;
		int64_t now = now_ms();
		if (now - j->last_said >= (o->tty ? 100 : 1000)) { /* plain lines: one a second at most */
			bar(o, j);
			j->last_said = now;
		}
	} else if (line[0] == 'V') {
		if (!o->tty)
			layer_say(o, j->index, "%s: Verifying Checksum", j->shortid);
		layer_say(o, j->index, "%s: Download complete", j->shortid);
	} else if (line[0] == 'D') {
		layer_say(o, j->index, "%s: Pull complete", j->shortid);
		j->done = true;
	} else if (line[0] == 'R') {
		layer_say(o, j->index, "%s: Retrying", j->shortid);
	} else if (line[0] == 'E') {
		free(j->error);
		j->error = xstrdup(line + 2);
	}
}

static void drain(struct out *o, struct job *j)
{
	char chunk[4096];
	ssize_t n = read(j->fd, chunk, sizeof(chunk));
	if (n < 0 && errno == EINTR)
		return;
	if (n > 0) {
		buf_add(&j->in, chunk, (size_t)n);
		char *nl;
		while (j->in.s && (nl = memchr(j->in.s, '\n', j->in.len))) {
			*nl = '\0';
			heard(o, j, j->in.s);
			size_t rest = j->in.len - (size_t)(nl + 1 - j->in.s);
			memmove(j->in.s, nl + 1, rest);
			j->in.len = rest;
			j->in.s[rest] = '\0';
		}
		return;
	}
	close(j->fd);
	j->fd = -1;
	int status = 0;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->running = false;
	j->failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0) || !j->done;
	if (j->failed && !j->error)
		j->error = xasprintf("layer %s: the puller ended without a word (%s %d)", j->shortid,
				     WIFSIGNALED(status) ? "signal" : "status",
				     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* Every job that needs fetching, PARALLEL at a time; stops starting more
 * after a failure and waits for those running. */
static int run_jobs(struct store *st, struct registry *r, struct job *jobs, size_t n, struct out *o, struct berr **err)
{
	size_t next = 0, running = 0;
	int ret = 0;
	for (;;) {
		while (ret == 0 && running < PARALLEL && next < n) {
			struct job *j = &jobs[next++];
			if (j->done)
				continue;
			layer_say(o, j->index, "%s: Pulling fs layer", j->shortid);
			if ((ret = start_job(st, r, j, err)) == 0)
				running++;
		}
		if (!running)
			break;
		struct pollfd pfd[PARALLEL];
		struct job *who[PARALLEL];
		nfds_t k = 0;
		for (size_t i = 0; i < n && k < PARALLEL; i++)
			if (jobs[i].running) {
				pfd[k] = (struct pollfd){jobs[i].fd, POLLIN, 0};
				who[k++] = &jobs[i];
			}
		if (poll(pfd, k, -1) < 0 && errno != EINTR)
			return berr_sys(err, errno, "cannot follow the pull");
		for (nfds_t i = 0; i < k; i++) {
			if (!pfd[i].revents)
				continue;
			drain(o, who[i]);
			if (!who[i]->running) {
				running--;
				if (who[i]->failed && ret == 0)
					ret = berr_set(err, EIO, "%s", who[i]->error);
			}
		}
	}
	return ret;
}

/* ---- the image ---- */

static bool is_index(const char *mt) { return mt && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST)); }

/* The media type a registry did not say, from the document itself. */
static const char *media_type_of(json_t *doc, const char *header)
{
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (mt && mt[0])
		return mt;
	if (header && header[0] && !streq(header, "application/json") && !streq(header, "text/plain"))
		return header;
	if (json_integer_value(json_object_get(doc, "schemaVersion")) == 1)
		return MT_DOCKER_V1;
	return json_object_get(doc, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
}

struct pulled {
	char *digest; /* of the manifest named by the reference (an index's, for a tag of one) */
	json_t *manifest;
};

static int get_manifest(struct registry *r, const struct image_ref *ref, const char *platform, int depth,
			struct pulled *p, struct berr **err)
{
	const char *reference = ref->digest ? ref->digest : ref->tag;
	_cleanup_free_ char *fam = ref_familiar(ref);
	if (depth > 1)
		return berr_set(err, EPROTO, "the manifests of %s nest too deep", fam);
	char *body = NULL, *ct = NULL;
	size_t len = 0;
	int ret = registry_manifest(r, reference, &body, &len, &ct, err);
	if (ret < 0)
		return ret;
	char hex[65];
	sha256_of(body, len, hex);
	_cleanup_free_ char *digest = xasprintf("sha256:%s", hex);
	json_error_t je;
	json_t *doc = json_loadb(body, len, 0, &je);
	free(body);
	_cleanup_free_ char *ctype = ct;
	if (startswith(reference, "sha256:") && !streq(reference, digest)) {
		json_decref(doc);
		return berr_set(err, EBADMSG, "the manifest %s of %s does not match its digest (got %s)", reference,
				fam, digest);
	}
	if (!doc)
		return berr_set(err, EBADMSG, "the manifest of %s is not JSON: %s", fam, je.text);
	if (!p->digest)
		p->digest = xstrdup(digest);
	const char *mt = media_type_of(doc, ctype);
	if (streq(mt, MT_DOCKER_V1) || streq(mt, MT_DOCKER_V1_SIGNED)) {
		json_decref(doc);
		return berr_set(err, EPROTO,
				"%s is stored in the image manifest v1 format (schema 1), which "
				"berth does not pull (nor does Docker since 2019); push it again with a "
				"current tool",
				fam);
	}
	if (is_index(mt)) {
		json_t *m = platform_pick(json_object_get(doc, "manifests"), platform);
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (!m || !d || !digest_valid(d)) {
			struct buf have = {0};
			size_t i;
			json_t *x;
			json_array_foreach(json_object_get(doc, "manifests"), i, x)
			{
				json_t *pl = json_object_get(x, "platform");
				const char *os = json_string_value(json_object_get(pl, "os"));
				const char *ar = json_string_value(json_object_get(pl, "architecture"));
				const char *va = json_string_value(json_object_get(pl, "variant"));
				if (os && ar && !streq(os, "unknown"))
					buf_printf(&have, "%s%s/%s%s%s", have.len ? ", " : "", os, ar, va ? "/" : "",
						   va ? va : "");
			}
			int e = berr_set(err, ENOENT,
					 "%s has no image for %s (it has %s); use --platform or the "
					 "service's platform: to ask for one of those",
					 fam, platform, have.s ? have.s : "none");
			buf_free(&have);
			json_decref(doc);
			return e;
		}
		_cleanup_free_ char *next = xstrdup(d);
		json_decref(doc);
		/* the platform's own manifest, by its digest */
		struct image_ref sub = *ref;
		sub.digest = next;
		return get_manifest(r, &sub, platform, depth + 1, p, err);
	}
	if (!streq(mt, MT_OCI_MANIFEST) && !streq(mt, MT_DOCKER_MANIFEST)) {
		json_decref(doc);
		return berr_set(err, EPROTO, "the manifest of %s has media type %s, which is not an image", fam, mt);
	}
	p->manifest = doc;
	return 0;
}

/* The config blob: from the store, or fetched and checked against its digest. */
static int get_config(struct store *st, struct registry *r, const char *digest, json_t **config, struct berr **err)
{
	if (!store_has_blob(st, digest)) {
		char *body = NULL;
		size_t len = 0;
		int ret = registry_blob(r, digest, CONFIG_MAX, &body, &len, err);
		struct blob_writer *w = NULL;
		if (ret == 0)
			ret = blob_writer_open(st, &w, err);
		if (ret == 0 && (ret = blob_writer_write(w, body, len, err)) < 0)
			blob_writer_abort(w);
		char got[72];
		if (ret == 0)
			ret = blob_writer_commit(w, digest, got, NULL, NULL, err);
		free(body);
		if (ret < 0)
			return berr_prefix(err, "the image config %s: ", digest);
	}
	char *text = NULL;
	size_t len;
	int ret = store_read_blob(st, digest, CONFIG_MAX, &text, &len, err);
	if (ret < 0)
		return ret;
	*config = json_loadb(text, len, 0, NULL);
	free(text);
	return *config ? 0 : berr_set(err, EBADMSG, "the image config %s is not JSON", digest);
}

/* Old temporary files and directories: a pull or load killed midway. The
 * store's lock is held, so nothing else is writing there. */
static void sweep_tmp(struct store *st)
{
	_cleanup_free_ char *tmp = path_join(st->dir, "tmp");
	fs_remove_tree(tmp, NULL);
	fs_mkdir_p(tmp, 0700, NULL);
}

int image_pull(struct store *st, const char *refs, const struct pull_opts *po, char **id, struct berr **err)
{
	struct out o = {po && po->out ? po->out : stdout, po && po->quiet, false, NULL, 0};
	o.tty = !o.quiet && !(po && po->plain) && isatty(fileno(o.f));
	struct image_ref ref;
	int ret = ref_parse(refs, &ref, err);
	if (ret < 0)
		return ret;
	_cleanup_free_ char *host_platform = platform_host();
	const char *platform = po && po->platform ? po->platform : host_platform;
	_cleanup_free_ char *fam = ref_familiar(&ref);
	_cleanup_free_ char *full = ref_string(&ref);
	struct registry *r = NULL;
	struct pulled p = {0};
	json_t *config = NULL;
	struct job *jobs = NULL;
	size_t n = 0;
	ret = registry_open(ref.domain, ref.path, &r, err);
	if (ret == 0) {
		sweep_tmp(st);
		ret = get_manifest(r, &ref, platform, 0, &p, err);
	}
	if (ret == 0)
		say(&o, "%s: Pulling from %s\n", ref.digest ? ref.digest : ref.tag, ref.path);
	json_t *cdesc = json_object_get(p.manifest, "config");
	const char *cdigest = json_string_value(json_object_get(cdesc, "digest"));
	json_t *layers = json_object_get(p.manifest, "layers");
	if (ret == 0 && (!cdigest || !digest_valid(cdigest) || !json_is_array(layers)))
		ret = berr_set(err, EBADMSG, "the manifest of %s has no valid config or layers", fam);
	if (ret == 0)
		ret = get_config(st, r, cdigest, &config, err);
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (ret == 0 && json_array_size(diff_ids) != json_array_size(layers))
		ret = berr_set(err, EBADMSG, "%s has %zu layers but its config lists %zu", fam, json_array_size(layers),
			       json_array_size(diff_ids));
	if (ret == 0) {
		_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
		platform_split(platform, &os, &arch, &variant);
		const char *cos = json_string_value(json_object_get(config, "os"));
		const char *carch = json_string_value(json_object_get(config, "architecture"));
		if (cos && carch && (!streq(cos, os) || !streq(carch, arch)))
			ret = berr_set(err, ENOEXEC, "%s is an image for %s/%s, not for %s", fam, cos, carch, platform);
	}
	n = ret == 0 ? json_array_size(layers) : 0;
	jobs = xcalloc(n + 1, sizeof(*jobs));
	o.lines = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; o.tty && i < n; i++) { /* every layer has its line from the start */
		const char *d = json_string_value(json_object_get(json_array_get(layers, i), "digest"));
		o.lines[i] = xasprintf("%.12s: Waiting", d && strlen(d) > 7 ? d + 7 : "?");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		json_t *l = json_array_get(layers, i);
		struct job *j = &jobs[i];
		j->index = i;
		j->fd = -1;
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *di = json_string_value(json_array_get(diff_ids, i));
		if (!d || !digest_valid(d) || !di || !digest_valid(di)) {
			ret = berr_set(err, EBADMSG, "layer %zu of %s has no valid digest", i, fam);
			break;
		}
		if (mt && strstr(mt, "foreign")) {
			ret = berr_set(err, EPROTO, "%s has a foreign layer (%s), which only Windows runs", fam, mt);
			break;
		}
		j->digest = xstrdup(d);
		j->diff_id = xstrdup(di);
		j->media_type = xstrdup(mt ? mt : "application/vnd.oci.image.layer.v1.tar+gzip");
		snprintf(j->shortid, sizeof(j->shortid), "%.12s", d + 7);
		j->size = (uint64_t)json_integer_value(json_object_get(l, "size"));
		_cleanup_free_ char *dest = store_layer_path(st, di);
		if (fs_exists(dest)) {
			j->done = true;
			layer_say(&o, j->index, "%s: Already exists", j->shortid);
		}
	}
	size_t fetched = 0;
	for (size_t i = 0; i < n; i++)
		fetched += !jobs[i].done;
	if (ret == 0)
		ret = run_jobs(st, r, jobs, n, &o, err);
	/* the record, as image load makes it */
	json_t *lrec = json_array();
	uint64_t total = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		/* the blob is not kept: its size and type are, for a push of an image built on it */
		json_array_append_new(lrec, json_pack("{s:s, s:s, s:I, s:s}", "digest", jobs[i].digest, "diff_id",
						      jobs[i].diff_id, "size", (json_int_t)jobs[i].size, "mediaType",
						      jobs[i].media_type ? jobs[i].media_type : ""));
		_cleanup_free_ char *dest = store_layer_path(st, jobs[i].diff_id);
		_cleanup_free_ char *size_file = xasprintf("%s.size", dest);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (fs_read_file(size_file, 64, &text, &len, NULL) == 0)
			total += strtoull(text, NULL, 10);
	}
	_cleanup_free_ char *repo = ref_familiar_repo(&ref);
	_cleanup_free_ char *repo_digest = p.digest ? xasprintf("%s@%s", repo, p.digest) : NULL;
	bool same = false;
	if (ret == 0) {
		/* up to date: nothing fetched, the image was there, and its tag (if any) named it */
		char *old = NULL;
		json_t *had = NULL;
		same = !fetched && store_get_image(st, cdigest, &had, NULL) == 0 &&
		       (ref.digest || (store_resolve(st, full, &old, NULL) == 0 && streq(old, cdigest)));
		json_decref(had);
		free(old);
		_cleanup_free_ char *now = store_timestamp();
		json_t *prev = NULL;
		json_t *digests = json_array();
		json_t *kept = json_object(); /* what a build here recorded of this very image */
		if (store_get_image(st, cdigest, &prev, NULL) == 0) {
			static const char *const keep[] = {"build_cache", "build_key"};
			for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
				if (json_object_get(prev, keep[k]))
					json_object_set(kept, keep[k], json_object_get(prev, keep[k]));
			size_t i;
			json_t *v;
			json_array_foreach(json_object_get(prev, "repo_digests"), i, v)
			{
				_cleanup_free_ char *mine = xasprintf("%s@", repo);
				if (!startswith(json_string_value(v) ?: "", mine))
					json_array_append(digests, v);
			}
			json_decref(prev);
		}
		json_array_append_new(digests, json_string(repo_digest));
		json_t *rec = json_pack("{s:s, s:o, s:I, s:s, s:s, s:o}", "id", cdigest, "layers", lrec, "size",
					(json_int_t)total, "loaded", now, "created",
					json_string_value(json_object_get(config, "created")) ?: "", "repo_digests",
					digests);
		lrec = NULL;
		json_object_update(rec, kept);
		json_decref(kept);
		ret = store_put_image(st, cdigest, rec, err);
		json_decref(rec);
		if (ret == 0 && !ref.digest)
			ret = store_set_tag(st, full, cdigest, err);
	}
	json_decref(lrec);
	if (ret == 0) {
		say(&o, "Digest: %s\n", p.digest);
		say(&o, "Status: %s for %s\n", same ? "Image is up to date" : "Downloaded newer image", fam);
		if (id)
			*id = xstrdup(cdigest);
	}
	strv_free(o.lines);
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].digest);
		free(jobs[i].diff_id);
		free(jobs[i].media_type);
		free(jobs[i].error);
		buf_free(&jobs[i].in);
	}
	free(jobs);
	json_decref(config);
	json_decref(p.manifest);
	free(p.digest);
	registry_close(r);
	ref_free(&ref);
	return ret;
}

int image_digest(struct store *st, const char *refs, char **digest, struct berr **err)
{
	struct image_ref ref;
	int ret = ref_parse(refs, &ref, err);
	if (ret < 0)
		return ret;
	*digest = NULL;
	if (ref.digest) {
		*digest = xstrdup(ref.digest);
		ref_free(&ref);
		return 0;
	}
	/* the digest it was pulled by, when it was pulled */
	_cleanup_free_ char *full = ref_string(&ref);
	_cleanup_free_ char *repo = ref_familiar_repo(&ref);
	_cleanup_free_ char *prefix = xasprintf("%s@", repo);
	char *id = NULL;
	json_t *rec = NULL;
	if (st && store_resolve(st, full, &id, NULL) == 0 && store_get_image(st, id, &rec, NULL) == 0) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(rec, "repo_digests"), i, v)
		{
			const char *d = json_string_value(v);
			if (!*digest && d && startswith(d, prefix))
				*digest = xstrdup(d + strlen(prefix));
		}
	}
	json_decref(rec);
	free(id);
	/* else the registry's word */
	struct registry *r = NULL;
	char *body = NULL, *ct = NULL;
	size_t len = 0;
	if (!*digest) {
		ret = registry_open(ref.domain, ref.path, &r, err);
		if (ret == 0)
			ret = registry_manifest(r, ref.tag, &body, &len, &ct, err);
		if (ret == 0) {
			char hex[65];
			sha256_of(body, len, hex);
			*digest = xasprintf("sha256:%s", hex);
		}
	}
	free(body);
	free(ct);
	registry_close(r);
	ref_free(&ref);
	return ret;
}
