// A session's disk: its writable layer lives on an ext4 file system of its own, in a sparse image
// file <dir>/disk.img of exactly the session's disk allowance, attached to a loop device and
// mounted on <dir>/disk. Filling it gives ENOSPC inside the session and costs the host at most the
// image's size; the kernel counts every byte written to it (ext4's session_write_kbytes of the
// loop device), which is what the session is metered by; removing it frees everything.
//
// The file system has no journal and no reserved blocks, and its inode tables are written by mkfs,
// so no background initialisation writes are metered later. The loop device is attached with
// LO_FLAGS_AUTOCLEAR: it detaches itself once the file system is unmounted, also when the server
// is gone (a crash leaves only files, cleaned at the next start).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

inline constexpr int64_t kMinSessionDiskBytes = 8LL << 20;

// Checks that this host can make session disks: /dev/loop-control, ext4 in /proc/filesystems and
// mkfs.ext4 (e2fsprogs) on $PATH. kUnavailable naming what is missing otherwise.
Status check_session_disk_support();

// Creates <dir>/disk.img (sparse, `bytes` long, at least kMinSessionDiskBytes), formats it,
// attaches it to a free loop device and mounts it on <dir>/disk (nodev, nosuid). Idempotent: a
// disk already mounted there is kept. On failure nothing of it is left.
Status create_session_disk(const std::string& dir, int64_t bytes);

// True when <dir>/disk is a mount point.
bool session_disk_mounted(const std::string& dir);

// Bytes written to the session disk's device since it was mounted, as the kernel counts them.
// With `flush`, dirty data is written out first (syncfs) so that it is counted. kNotFound when no
// disk is mounted on <dir>/disk.
Result<int64_t> session_disk_written_bytes(const std::string& dir, bool flush);

// Unmounts <dir>/disk (lazily when something still holds it), which frees the loop device, and
// deletes the image. Idempotent.
Status remove_session_disk(const std::string& dir);

// The mount points at or below `dir` in this process's mount namespace (/proc/self/mountinfo).
std::vector<std::string> mounts_under(const std::string& dir);

// The loop devices ("loop3") whose backing file lies under `dir` (leak checks).
std::vector<std::string> loop_devices_backed_under(const std::string& dir);

}  // namespace xop
