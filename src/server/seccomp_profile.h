// The seccomp profile of session containers: an allow list in the shape of the OCI runtime
// spec's linux.seccomp, kept as a data file (data/seccomp/default.json, embedded in the binary at
// build time) or read from the file the server key seccomp_profile names.
//
// Contract: parse_seccomp_profile() accepts only an allow-list profile it fully understands and
// returns the document to put into a bundle's linux.seccomp, with the "comment" fields dropped.
// It refuses, naming the field: text over kMaxSeccompProfileBytes or nested deeper than 8; a
// defaultAction that allows (SCMP_ACT_ALLOW, SCMP_ACT_LOG: that would be a deny list); unknown
// fields, actions, architectures or comparison operators; syscall names that are not
// [a-z0-9_]{1,64}; more than 512 rules, 1024 names per rule or 6 argument conditions per rule; an
// argument index beyond 5; errnoRet outside 1..4095; a profile that does not allow execve (the
// runtime's last call; without it no session could start). Pure: no I/O beyond
// load_seccomp_profile's one capped read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/json_reader.h"
#include "core/result.h"

namespace xop {

inline constexpr size_t kMaxSeccompProfileBytes = 256 << 10;

Result<Json> parse_seccomp_profile(std::string_view text);

// The text of data/seccomp/default.json as built into this binary.
std::string_view default_seccomp_profile_text();

// The built-in profile, parsed once. Its parse is checked by a test; should it ever fail, this
// returns the error (the server refuses to start).
Result<Json> default_seccomp_profile();

// `path` empty: the built-in profile; otherwise that file (kNotFound when it cannot be read,
// kInvalidArgument naming the path when it is not a valid profile).
Result<Json> load_seccomp_profile(const std::string& path);

}  // namespace xop
