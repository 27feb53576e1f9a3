#ifndef CUTOVER_SYS_H
#define CUTOVER_SYS_H
// statfs(2) is not in Swift's Glibc module: the walker needs the file system type (f_type) to
// stay out of kernel file systems such as proc and sysfs.
#include <sys/vfs.h>

/// The file system type (`f_type`) of the file system holding `path`, or -1 with errno set.
static inline long cutover_fs_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}
#endif
