#include "proto/account_kind.h"

#include <string>

namespace xop {

const char* to_string(AccountKind k) { return k == AccountKind::kServer ? "server" : "user"; }

Result<AccountKind> parse_account_kind(std::string_view s, std::string_view what) {
  for (AccountKind k : {AccountKind::kUser, AccountKind::kServer}) {
    if (s == to_string(k)) return k;
  }
  return invalid(std::string(what) + ": unknown account kind");
}

}  // namespace xop
