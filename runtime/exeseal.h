/* The shim's own binary, as processes inside a container can see it: a
 * container whose command is a script starting "#!/proc/self/exe" makes
 * the kernel run the shim's binary in the container, where another of its
 * processes can open /proc/PID/exe and, once it exits, write to it
 * (CVE-2019-5736). So the shim runs from a read-only view of its binary:
 * a detached, read-only bind mount of its directory that no mount table
 * holds and that goes when the last process using it does. */
#ifndef BERTH_EXESEAL_H
#define BERTH_EXESEAL_H

/* Re-exec the caller from a read-only view of its binary, unless it runs
 * from one already; returns only on failure (-errno). */
int exe_reexec_sealed(char **argv);
/* Whether /proc/self/exe is on a read-only mount. */
int exe_is_sealed(void);

#endif
