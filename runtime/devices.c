#include "devices.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/util.h"

/* moby oci/defaults.go and daemon/oci_linux.go: mknod of anything, and
 * these character devices: null, zero, full, random, urandom, tty,
 * console, ptmx, every pty slave, tun. */
const char *const dev_docker_default[] = {
	"c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm",   "c 1:7 rwm",    "c 1:8 rwm", "c 1:9 rwm",
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm", NULL,
};

int dev_access_parse(const char *text, unsigned *access)
{
	*access = 0;
	for (const char *p = text; *p; p++) {
		unsigned bit = *p == 'r' ? DEV_READ : *p == 'w' ? DEV_WRITE : *p == 'm' ? DEV_MKNOD : 0;
		if (!bit || (*access & bit))
			return -EINVAL;
		*access |= bit;
	}
	return *access ? 0 : -EINVAL;
}

static int parse_number(const char *s, const char *end, int64_t *v)
{
	if (end - s == 1 && *s == '*') {
		*v = DEV_ANY;
		return 0;
	}
	int64_t n = 0;
	if (s == end || end - s > 10)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (*p - '0');
	}
	if (n > UINT32_MAX)
		return -EINVAL;
	*v = n;
	return 0;
}

int dev_rule_parse(const char *text, struct dev_rule *r, struct berr **err)
{
	*r = (struct dev_rule){
		.type = 'a', .major = DEV_ANY, .minor = DEV_ANY, .access = DEV_MKNOD | DEV_READ | DEV_WRITE};
	const char *p = text;
	if (streq(text, "a"))
		return 0;
	const char *sp = strchr(p, ' ');
	const char *colon = sp ? strchr(sp + 1, ':') : NULL;
	const char *sp2 = colon ? strchr(colon + 1, ' ') : NULL;
	if ((p[0] != 'a' && p[0] != 'b' && p[0] != 'c') || sp != p + 1 || !colon || !sp2 ||
	    parse_number(sp + 1, colon, &r->major) < 0 || parse_number(colon + 1, sp2, &r->minor) < 0 ||
	    dev_access_parse(sp2 + 1, &r->access) < 0)
		return berr_set(err, EINVAL,
				"device rule \"%s\" is not TYPE MAJOR:MINOR ACCESS (as \"c 1:3 rwm\" or \"b *:* m\")",
				text);
	r->type = p[0];
	return 0;
}

char *dev_rule_format(const struct dev_rule *r)
{
	char maj[16] = "*", min[16] = "*", acc[4];
	if (r->major != DEV_ANY)
		snprintf(maj, sizeof(maj), "%lld", (long long)r->major);
	if (r->minor != DEV_ANY)
		snprintf(min, sizeof(min), "%lld", (long long)r->minor);
	size_t n = 0;
	if (r->access & DEV_READ)
		acc[n++] = 'r';
	if (r->access & DEV_WRITE)
		acc[n++] = 'w';
	if (r->access & DEV_MKNOD)
		acc[n++] = 'm';
	acc[n] = '\0';
	return xasprintf("%c %s:%s %s", r->type, maj, min, acc);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU_IMM(op, dst, imm) INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define MOV_REG(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JNE_REG(dst, src, off) INSN(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0)
#define EXIT_WITH(v) INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v), INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* r2: device type, r3: access asked for, r4: major, r5: minor. Each rule is
 * a block of tests that jump past it on mismatch and allow at its end; the
 * program denies when no block allows. */
size_t dev_bpf_program(const struct dev_rule *rules, size_t n, void **insns)
{
	struct bpf_insn *p = xcalloc(6 + n * 8 + 2, sizeof(*p));
	size_t k = 0;
	p[k++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
	p[k++] = MOV_REG(BPF_REG_3, BPF_REG_2);
	p[k++] = ALU_IMM(BPF_AND, BPF_REG_2, 0xffff);
	p[k++] = ALU_IMM(BPF_RSH, BPF_REG_3, 16);
	p[k++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
	p[k++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
	for (size_t i = 0; i < n; i++) {
		const struct dev_rule *r = &rules[i];
		bool all = r->access == (DEV_MKNOD | DEV_READ | DEV_WRITE);
		int len = (r->type != 'a') + (all ? 0 : 3) + (r->major != DEV_ANY) + (r->minor != DEV_ANY) + 2;
		size_t start = k;
#define SKIP ((short)(len - (int)(k - start) - 1))
		if (r->type != 'a')
			p[k] = JNE_IMM(BPF_REG_2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, SKIP), k++;
		if (!all) {
			/* allowed only when every access asked for is in the rule's */
			p[k++] = MOV_REG(BPF_REG_1, BPF_REG_3);
			p[k++] = ALU_IMM(BPF_AND, BPF_REG_1, (int)r->access);
			p[k] = JNE_REG(BPF_REG_1, BPF_REG_3, SKIP), k++;
		}
		if (r->major != DEV_ANY)
			p[k] = JNE_IMM(BPF_REG_4, (int)r->major, SKIP), k++;
		if (r->minor != DEV_ANY)
			p[k] = JNE_IMM(BPF_REG_5, (int)r->minor, SKIP), k++;
#undef SKIP
		struct bpf_insn allow[] = {EXIT_WITH(1)};
		p[k++] = allow[0];
		p[k++] = allow[1];
	}
	struct bpf_insn deny[] = {EXIT_WITH(0)};
	p[k++] = deny[0];
	p[k++] = deny[1];
	*insns = p;
	return k;
}

int dev_bpf_attach(int cgroup_fd, const struct dev_rule *rules, size_t n, struct berr **err)
{
	void *insns;
	size_t count = dev_bpf_program(rules, n, &insns);
	union bpf_attr load = {.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
			       .insns = (uint64_t)(uintptr_t)insns,
			       .insn_cnt = (uint32_t)count,
			       .license = (uint64_t)(uintptr_t) "GPL"};
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
	if (prog < 0) {
		/* again with the verifier's log, for the message */
		int saved = errno;
		char log[8192] = "";
		load.log_buf = (uint64_t)(uintptr_t)log;
		load.log_size = sizeof(log);
		load.log_level = 1;
		if (syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load)) < 0)
			saved = errno;
		free(insns);
		size_t len = strlen(log);
		return berr_sys(err, saved, "cannot load the device program (%.300s)",
				len > 300 ? log + len - 300 : log);
	}
	free(insns);
	union bpf_attr attach = {.target_fd = (uint32_t)cgroup_fd,
				 .attach_bpf_fd = (uint32_t)prog,
				 .attach_type = BPF_CGROUP_DEVICE,
				 .attach_flags = BPF_F_ALLOW_MULTI};
	int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach));
	int saved = errno;
	close(prog);
	return r < 0 ? berr_sys(err, saved, "cannot attach the device program") : 0;
}
