#include "exeseal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/util.h"

extern char **environ;

int exe_is_sealed(void)
{
	struct statvfs st;
	return statvfs("/proc/self/exe", &st) == 0 && (st.f_flag & ST_RDONLY);
}

int exe_reexec_sealed(char **argv)
{
	if (exe_is_sealed())
		return 0;
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return -errno;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	int tree = open_tree(AT_FDCWD, path[0] ? path : "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	int exe = -1;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) == 0)
		exe = openat(tree, slash + 1, O_PATH | O_CLOEXEC);
	int e = errno;
	close(tree);
	if (exe < 0)
		return -e;
	syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
	e = errno;
	close(exe);
	return -e;
}
