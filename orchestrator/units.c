#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "../lib/buf.h"

static const struct {
	const char *name;
	double ns;
} duration_units[] = {
	{"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
	{"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
};

int duration_parse(const char *s, long long *ns)
{
	const char *p = s;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (streq(p, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	double total = 0;
	while (*p) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return -EINVAL;
		p = end;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++) {
			size_t l = strlen(duration_units[i].name);
			if (l > best_len && strncmp(p, duration_units[i].name, l) == 0) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			return -EINVAL;
		/* "m" must not swallow the "m" of "ms" */
		p += best_len;
		total += v * duration_units[best].ns;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ns = (long long)llround(neg ? -total : total);
	return 0;
}

/* Append v/unit with the fractional digits Go prints, trailing zeros removed. */
static void frac(struct buf *b, long long v, long long unit, const char *suffix)
{
	buf_printf(b, "%lld", v / unit);
	long long rest = v % unit;
	if (rest) {
		char digits[24];
		int width = 0;
		for (long long u = unit; u > 1; u /= 10)
			width++;
		for (int i = width - 1; i >= 0; i--, rest /= 10)
			digits[i] = (char)('0' + rest % 10);
		while (width > 0 && digits[width - 1] == '0')
			width--;
		buf_putc(b, '.');
		buf_add(b, digits, (size_t)width);
	}
	buf_puts(b, suffix);
}

char *duration_format(long long ns)
{
	struct buf b = {0};
	if (ns < 0) {
		buf_putc(&b, '-');
		ns = -ns;
	}
	if (ns == 0)
		buf_puts(&b, "0s");
	else if (ns < 1000LL)
		buf_printf(&b, "%lldns", ns);
	else if (ns < 1000000LL)
		frac(&b, ns, 1000LL, "\xc2\xb5s");
	else if (ns < 1000000000LL)
		frac(&b, ns, 1000000LL, "ms");
	else {
		long long h = ns / 3600000000000LL, rest = ns % 3600000000000LL;
		long long m = rest / 60000000000LL;
		rest %= 60000000000LL;
		if (h)
			buf_printf(&b, "%lldh", h);
		if (h || m)
			buf_printf(&b, "%lldm", m);
		frac(&b, rest, 1000000000LL, "s");
	}
	return buf_steal(&b);
}

int bytes_parse(const char *s, long long *bytes)
{
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	char *end;
	double v = strtod(p, &end);
	if (end == p)
		return -EINVAL;
	p = end;
	if (*p == ' ')
		p++;
	double mult = 1;
	const char *units = "kmgtp";
	if (*p && strchr(units, tolower((unsigned char)*p))) {
		for (const char *u = units; *u; u++) {
			mult *= 1024;
			if (*u == tolower((unsigned char)*p))
				break;
		}
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	double r = v * mult;
	if (r > 9.2e18)
		return -ERANGE;
	*bytes = (long long)r;
	return 0;
}

char **shell_split(const char *s)
{
	char **words = NULL;
	struct buf w = {0};
	bool in_word = false;
	for (const char *p = s; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (in_word)
				strv_push(&words, buf_steal(&w));
			in_word = false;
			continue;
		}
		in_word = true;
		if (*p == '\\' && p[1]) {
			buf_putc(&w, *++p);
		} else if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q)
				goto unclosed;
			buf_add(&w, p + 1, (size_t)(q - p - 1));
			if (q == p + 1)
				buf_add(&w, "", 0);
			p = q;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`'))
					p++;
				buf_putc(&w, *p);
			}
			if (!*p)
				goto unclosed;
			if (!w.s)
				buf_add(&w, "", 0);
		} else {
			buf_putc(&w, *p);
		}
	}
	if (in_word)
		strv_push(&words, buf_steal(&w));
	if (!words)
		words = xcalloc(1, sizeof(char *));
	return words;
unclosed:
	buf_free(&w);
	strv_free(words);
	return NULL;
}

char *float_format(double d)
{
	char tmp[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return xstrdup(tmp);
}

/* "80" or "8080-8081": first and last port. */
static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	unsigned long a = strtoul(s, &end, 10), b = a;
	if (*end == '-') {
		const char *q = end + 1;
		if (!isdigit((unsigned char)*q))
			return -EINVAL;
		b = strtoul(q, &end, 10);
	}
	if (*end || a == 0 || a > 65535 || b < a || b > 65535)
		return -EINVAL;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int split_ip(const char *s, char *ip, size_t iplen, const char **rest)
{
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= iplen)
			return -EINVAL;
		snprintf(ip, iplen, "%.*s", (int)(close - s - 1), s + 1);
		*rest = close + 2;
		return 0;
	}
	int colons = 0;
	for (const char *p = s; *p; p++)
		colons += *p == ':';
	if (colons < 2) {
		ip[0] = '\0';
		*rest = s;
		return 0;
	}
	/* ip:published:target, where a bare IPv6 ip holds colons of its own */
	const char *last = strrchr(s, ':');
	const char *mid = last;
	while (mid > s && mid[-1] != ':')
		mid--;
	mid--;
	if ((size_t)(mid - s) >= iplen)
		return -EINVAL;
	snprintf(ip, iplen, "%.*s", (int)(mid - s), s);
	*rest = mid + 1;
	return 0;
}

int port_parse(const char *s, struct port_spec *out, size_t max, size_t *n, struct berr **err)
{
	char proto[8] = "tcp";
	_cleanup_free_ char *spec = xstrdup(s);
	char *slash = strrchr(spec, '/');
	if (slash) {
		if (strlen(slash + 1) == 0 || strlen(slash + 1) >= sizeof(proto))
			return berr_set(err, EINVAL, "%s", "the protocol after / must be tcp, udp or sctp");
		snprintf(proto, sizeof(proto), "%s", slash + 1);
		*slash = '\0';
	}
	char ip[64];
	const char *rest;
	if (split_ip(spec, ip, sizeof(ip), &rest) < 0)
		return berr_set(err, EINVAL, "%s", "the host address is not valid");
	const char *colon = strchr(rest, ':');
	_cleanup_free_ char *pub = colon ? xstrndup(rest, (size_t)(colon - rest)) : xstrdup("");
	const char *target = colon ? colon + 1 : rest;
	if (ip[0] && !colon)
		return berr_set(err, EINVAL, "%s", "a host address needs HOST:PUBLISHED:TARGET");
	unsigned tlo, thi, plo = 0, phi = 0;
	if (port_range(target, &tlo, &thi) < 0)
		return berr_set(err, EINVAL, "%s",
				"the container port must be a number from 1 to 65535 or a range like 8000-8010");
	if (pub[0] && port_range(pub, &plo, &phi) < 0)
		return berr_set(err, EINVAL, "%s",
				"the published port must be a number from 1 to 65535 or a range like 8000-8010");
	bool pub_range_one_target = pub[0] && tlo == thi && phi > plo;
	if (pub[0] && !pub_range_one_target && phi - plo != thi - tlo)
		return berr_set(err, EINVAL, "%s", "the published and container port ranges must have the same size");
	size_t count = thi - tlo + 1;
	*n = count;
	if (!out)
		return 0; /* the caller only asked how many */
	if (count > max)
		return berr_set(err, EINVAL, "%s", "the port range is too large");
	for (size_t i = 0; i < count; i++) {
		struct port_spec *p = &out[i];
		snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip);
		snprintf(p->protocol, sizeof(p->protocol), "%s", proto);
		p->target = tlo + (unsigned)i;
		if (!pub[0])
			p->published[0] = '\0';
		else if (pub_range_one_target)
			snprintf(p->published, sizeof(p->published), "%s", pub);
		else
			snprintf(p->published, sizeof(p->published), "%u", plo + (unsigned)i);
	}
	return 0;
}
