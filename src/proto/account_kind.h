// An account's kind, the one enum the corp stores, its API takes (POST /v1/accounts "kind") and
// its answers show: its single string form is "user" or "server".
#pragma once

#include <string_view>

#include "core/result.h"

namespace xop {

enum class AccountKind { kUser, kServer };
const char* to_string(AccountKind k);  // "user" | "server"
// Refuses anything but the two names with kInvalidArgument "<what>: unknown account kind".
Result<AccountKind> parse_account_kind(std::string_view s, std::string_view what);

}  // namespace xop
