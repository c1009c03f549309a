// Small file helpers with the contracts every part needs: whole-file writes that are atomic
// (a reader sees the old content or the new, never a torn file), and reads with a size cap so
// that pointing a reader at a huge file fails fast instead of exhausting memory.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

// Writes `content` to `path` via a temporary file in the same directory, fsync and rename.
// The file gets `mode` (e.g. 0600 for keys). The directory must exist.
Status write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0644);
// As write_file_atomic, but never replaces a file: the content is written and fsynced under a
// temporary name, then linked to `path`, which fails with kConflict when `path` exists (checked
// atomically by the file system). On any failure nothing is left at `path` or beside it.
Status write_file_new(const std::string& path, std::string_view content, unsigned mode = 0644);

// Reads a whole file of at most `max_bytes`: kNotFound when it cannot be opened,
// kInvalidArgument when it is larger.
Result<std::string> read_file_capped(const std::string& path, size_t max_bytes);

// The executable `name` resolves to: itself when it contains a '/', else the first match in the
// directories of $PATH (the usual system directories when PATH is unset). Empty when none is an
// executable file.
std::string find_program(const std::string& name);

}  // namespace xop
