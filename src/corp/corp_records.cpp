#include "corp/corp_records.h"

#include <string>

namespace xop {

const char* to_string(AccountKind k) { return k == AccountKind::kServer ? "server" : "user"; }

Result<AccountKind> parse_account_kind(std::string_view s, std::string_view what) {
  for (AccountKind k : {AccountKind::kUser, AccountKind::kServer}) {
    if (s == to_string(k)) return k;
  }
  return invalid(std::string(what) + ": unknown account kind");
}

const char* to_string(PoStatus s) {
  switch (s) {
    case PoStatus::kOpen:
      return "open";
    case PoStatus::kClosing:
      return "closing";
    case PoStatus::kClosed:
      return "closed";
  }
  return "closed";
}

Result<PoStatus> parse_po_status(std::string_view s, std::string_view what) {
  for (PoStatus p : {PoStatus::kOpen, PoStatus::kClosing, PoStatus::kClosed}) {
    if (s == to_string(p)) return p;
  }
  return invalid(std::string(what) + ": unknown purchase order state");
}

PoState to_po_state(const PoRow& po) {
  PoState st;
  st.po_id = po.po_id;
  st.user = po.user;
  st.server = po.server;
  st.max_amount = po.max_amount;
  st.charged = po.charged;
  st.released = po.released;
  st.remaining = po.remaining();
  st.closed = po.closed();
  st.final_seen = po.final_seen;
  st.session = po.session;
  st.last_seq = po.last_seq;
  st.issued_at = po.issued_at;
  st.expires_at = po.expires_at;
  st.close_requested_at = po.close_requested_at;
  return st;
}

}  // namespace xop
