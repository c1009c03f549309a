#include "corp/corp_records.h"

#include <string>

namespace xop {

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
  st.unpaid = po.unpaid;
  st.last_amount = po.last_amount;
  return st;
}

}  // namespace xop
