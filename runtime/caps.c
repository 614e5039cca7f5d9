#include "caps.h"

#include <strings.h>

static const char *const names[CAPS_LAST + 1] = {
	"CHOWN",	   "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",	"FSETID",	  "KILL",
	"SETGID",	   "SETUID",	      "SETPCAP",	 "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN",	   "NET_RAW",	      "IPC_LOCK",	 "IPC_OWNER",	"SYS_MODULE",	  "SYS_RAWIO",
	"SYS_CHROOT",	   "SYS_PTRACE",      "SYS_PACCT",	 "SYS_ADMIN",	"SYS_BOOT",	  "SYS_NICE",
	"SYS_RESOURCE",	   "SYS_TIME",	      "SYS_TTY_CONFIG",	 "MKNOD",	"LEASE",	  "AUDIT_WRITE",
	"AUDIT_CONTROL",   "SETFCAP",	      "MAC_OVERRIDE",	 "MAC_ADMIN",	"SYSLOG",	  "WAKE_ALARM",
	"BLOCK_SUSPEND",   "AUDIT_READ",      "PERFMON",	 "BPF",		"CHECKPOINT_RESTORE",
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
