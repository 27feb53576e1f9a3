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

/// Kernel interfaces mounted as file systems (`statfs` f_type): proc, sysfs, devpts, debugfs,
/// tracefs, securityfs, cgroup, cgroup2, bpf, pstore, efivarfs, configfs, fusectl, binfmt_misc,
/// mqueue, selinuxfs, nsfs. Their "files" can block a reader forever (`/proc/kmsg`) or change
/// the kernel's state: neither the walker nor the log importer ever reads them.
static inline int cutover_is_pseudo_fs_type(long type) {
    switch (type) {
    case 0x9FA0: case 0x62656572: case 0x1CD1: case 0x64626720: case 0x74726163: case 0x73636673: case 0x0027E0EB:
    case 0x63677270: case 0xCAFE4A11: case 0x6165676C: case 0xDE5E81E4: case 0x62656570: case 0x65735543: case 0x42494E4D:
    case 0x19800202: case 0xF97CFF8C: case 0x6E736673:
        return 1;
    default:
        return 0;
    }
}

/// 1 when the open file `fd` lies on a kernel file system, 0 when not, -1 with errno set.
static inline int cutover_fd_is_pseudo_fs(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    return cutover_is_pseudo_fs_type((long)info.f_type);
}
#endif
