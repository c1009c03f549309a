// Reads a file of an unpacked image root file system from the host without leaving that root:
// the image is hostile, so "/etc/passwd -> /etc/shadow" or "../../" must resolve inside the root
// (openat2 RESOLVE_IN_ROOT, as if chrooted; magic links refused), never to the host's files.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace xop {

// The content of `path` (absolute, inside the image) under `root`; nullopt when it does not exist.
// kInvalidArgument when it is not a regular file or is larger than `max_bytes`; kInternal for
// other I/O errors. On a kernel without openat2 (before 5.6), symlinks anywhere on the path are
// refused instead (kInvalidArgument).
Result<std::optional<std::string>> read_file_in_root(const std::string& root, const std::string& path,
                                                     size_t max_bytes);

}  // namespace xop
