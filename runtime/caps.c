#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/fs.h"

static const char *const names[CAPS_LAST + 1] = {
	"CHOWN",
	"DAC_OVERRIDE",
	"DAC_READ_SEARCH",
	"FOWNER",
	"FSETID",
	"KILL",
	"SETGID",
	"SETUID",
	"SETPCAP",
	"LINUX_IMMUTABLE",
	"NET_BIND_SERVICE",
	"NET_BROADCAST",
	"NET_ADMIN",
	"NET_RAW",
	"IPC_LOCK",
	"IPC_OWNER",
	"SYS_MODULE",
	"SYS_RAWIO",
	"SYS_CHROOT",
	"SYS_PTRACE",
	"SYS_PACCT",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_NICE",
	"SYS_RESOURCE",
	"SYS_TIME",
	"SYS_TTY_CONFIG",
	"MKNOD",
	"LEASE",
	"AUDIT_WRITE",
	"AUDIT_CONTROL",
	"SETFCAP",
	"MAC_OVERRIDE",
	"MAC_ADMIN",
	"SYSLOG",
	"WAKE_ALARM",
	"BLOCK_SUSPEND",
	"AUDIT_READ",
	"PERFMON",
	"BPF",
	"CHECKPOINT_RESTORE",
};

int cap_from_name(const char *name)
{
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i <= CAPS_LAST; i++)
		if (strcasecmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *cap_name(int cap) { return cap >= 0 && cap <= CAPS_LAST ? names[cap] : "?"; }

static int last_cap(void)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file("/proc/sys/kernel/cap_last_cap", 32, &text, &len, NULL) < 0)
		return CAPS_LAST;
	int n = atoi(text);
	return n > 0 && n < 64 ? n : CAPS_LAST;
}

int caps_limit(uint64_t keep, struct berr **err)
{
	int last = last_cap();
	for (int c = 0; c <= last; c++)
		if (!(c < 64 && (keep & (1ULL << c))) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return berr_sys(err, errno, "cannot drop capability %d from the bounding set", c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return berr_sys(err, errno, "cannot clear the ambient capabilities");
	/* root's exec gains inheritable | bounding: inheritable must be empty
	 * (as Docker 23 and runc after CVE-2022-24769 have it) */
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return berr_sys(err, errno, "cannot read the capabilities");
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) < 0)
		return berr_sys(err, errno, "cannot clear the inheritable capabilities");
	return 0;
}
