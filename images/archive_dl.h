/* libarchive, loaded when berth first reads an image rather than linked:
 * with libxml2 and ICU behind it, linking it cost every berth command
 * ~5 ms of relocations on this VM, and only image loading needs it.
 * Include this instead of <archive.h>; call archive_dl_load() before the
 * first archive_* call (the names below go through the loaded library). */
#ifndef BERTH_ARCHIVE_DL_H
#define BERTH_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "../lib/err.h"

#define ARCHIVE_DL_FUNCS(X)                        \
	X(archive_entry_clear)                     \
	X(archive_entry_filetype)                  \
	X(archive_entry_free)                      \
	X(archive_entry_gid)                       \
	X(archive_entry_hardlink)                  \
	X(archive_entry_mode)                      \
	X(archive_entry_new)                       \
	X(archive_entry_pathname)                  \
	X(archive_entry_perm)                      \
	X(archive_entry_set_filetype)              \
	X(archive_entry_set_gid)                   \
	X(archive_entry_set_hardlink)              \
	X(archive_entry_set_mode)                  \
	X(archive_entry_set_mtime)                 \
	X(archive_entry_set_pathname)              \
	X(archive_entry_set_perm)                  \
	X(archive_entry_set_rdevmajor)             \
	X(archive_entry_set_rdevminor)             \
	X(archive_entry_set_size)                  \
	X(archive_entry_set_symlink)               \
	X(archive_entry_set_uid)                   \
	X(archive_entry_size)                      \
	X(archive_entry_symlink)                   \
	X(archive_entry_uid)                       \
	X(archive_entry_xattr_add_entry)           \
	X(archive_entry_xattr_clear)               \
	X(archive_entry_xattr_next)                \
	X(archive_entry_xattr_reset)               \
	X(archive_error_string)                    \
	X(archive_read_data)                       \
	X(archive_read_data_block)                 \
	X(archive_read_free)                       \
	X(archive_read_new)                        \
	X(archive_read_next_header)                \
	X(archive_read_open)                       \
	X(archive_read_open_fd)                    \
	X(archive_read_open_filename)              \
	X(archive_read_support_filter_all)         \
	X(archive_read_support_format_raw)         \
	X(archive_read_support_format_tar)         \
	X(archive_write_add_filter_gzip)           \
	X(archive_write_close)                     \
	X(archive_write_data)                      \
	X(archive_write_data_block)                \
	X(archive_write_disk_new)                  \
	X(archive_write_disk_set_options)          \
	X(archive_write_finish_entry)              \
	X(archive_write_free)                      \
	X(archive_write_header)                    \
	X(archive_write_new)                       \
	X(archive_write_open)                      \
	X(archive_write_open_fd)                   \
	X(archive_write_set_bytes_in_last_block)   \
	X(archive_write_set_bytes_per_block)       \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_set_format_raw)            \
	X(archive_write_set_options)

struct archive_dl {
#define ARCHIVE_DL_FIELD(f) __typeof__(&f) f;
	ARCHIVE_DL_FUNCS(ARCHIVE_DL_FIELD)
#undef ARCHIVE_DL_FIELD
};
extern struct archive_dl archive_dl;

int archive_dl_load(struct berr **err);

#ifndef ARCHIVE_DL_IMPL
#define archive_entry_clear archive_dl.archive_entry_clear
#define archive_entry_filetype archive_dl.archive_entry_filetype
#define archive_entry_free archive_dl.archive_entry_free
#define archive_entry_gid archive_dl.archive_entry_gid
#define archive_entry_hardlink archive_dl.archive_entry_hardlink
#define archive_entry_mode archive_dl.archive_entry_mode
#define archive_entry_new archive_dl.archive_entry_new
#define archive_entry_pathname archive_dl.archive_entry_pathname
#define archive_entry_perm archive_dl.archive_entry_perm
#define archive_entry_set_filetype archive_dl.archive_entry_set_filetype
#define archive_entry_set_gid archive_dl.archive_entry_set_gid
#define archive_entry_set_hardlink archive_dl.archive_entry_set_hardlink
#define archive_entry_set_mode archive_dl.archive_entry_set_mode
#define archive_entry_set_mtime archive_dl.archive_entry_set_mtime
#define archive_entry_set_pathname archive_dl.archive_entry_set_pathname
#define archive_entry_set_perm archive_dl.archive_entry_set_perm
#define archive_entry_set_rdevmajor archive_dl.archive_entry_set_rdevmajor
#define archive_entry_set_rdevminor archive_dl.archive_entry_set_rdevminor
#define archive_entry_set_size archive_dl.archive_entry_set_size
#define archive_entry_set_symlink archive_dl.archive_entry_set_symlink
#define archive_entry_set_uid archive_dl.archive_entry_set_uid
#define archive_entry_size archive_dl.archive_entry_size
#define archive_entry_symlink archive_dl.archive_entry_symlink
#define archive_entry_uid archive_dl.archive_entry_uid
#define archive_entry_xattr_add_entry archive_dl.archive_entry_xattr_add_entry
#define archive_entry_xattr_clear archive_dl.archive_entry_xattr_clear
#define archive_entry_xattr_next archive_dl.archive_entry_xattr_next
#define archive_entry_xattr_reset archive_dl.archive_entry_xattr_reset
#define archive_error_string archive_dl.archive_error_string
#define archive_read_data archive_dl.archive_read_data
#define archive_read_data_block archive_dl.archive_read_data_block
#define archive_read_free archive_dl.archive_read_free
#define archive_read_new archive_dl.archive_read_new
#define archive_read_next_header archive_dl.archive_read_next_header
#define archive_read_open archive_dl.archive_read_open
#define archive_read_open_fd archive_dl.archive_read_open_fd
#define archive_read_open_filename archive_dl.archive_read_open_filename
#define archive_read_support_filter_all archive_dl.archive_read_support_filter_all
#define archive_read_support_format_raw archive_dl.archive_read_support_format_raw
#define archive_read_support_format_tar archive_dl.archive_read_support_format_tar
#define archive_write_add_filter_gzip archive_dl.archive_write_add_filter_gzip
#define archive_write_close archive_dl.archive_write_close
#define archive_write_data archive_dl.archive_write_data
#define archive_write_data_block archive_dl.archive_write_data_block
#define archive_write_disk_new archive_dl.archive_write_disk_new
#define archive_write_open_fd archive_dl.archive_write_open_fd
#define archive_write_disk_set_options archive_dl.archive_write_disk_set_options
#define archive_write_finish_entry archive_dl.archive_write_finish_entry
#define archive_write_free archive_dl.archive_write_free
#define archive_write_header archive_dl.archive_write_header
#define archive_write_new archive_dl.archive_write_new
#define archive_write_open archive_dl.archive_write_open
#define archive_write_set_bytes_in_last_block archive_dl.archive_write_set_bytes_in_last_block
#define archive_write_set_bytes_per_block archive_dl.archive_write_set_bytes_per_block
#define archive_write_set_format_pax_restricted archive_dl.archive_write_set_format_pax_restricted
#define archive_write_set_format_raw archive_dl.archive_write_set_format_raw
#define archive_write_set_options archive_dl.archive_write_set_options
#endif

#endif
