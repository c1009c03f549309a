#include "proto/usage_record.h"

#include "proto/charge.h"
#include "proto/purchase_order.h"

namespace xop {

bool is_session_id(std::string_view id) {
  if (id.size() != 33 || id[0] != 's') return false;
  for (char c : id.substr(1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Json to_json(const UsageRecord& r) {
  return Json{{"session", r.session},
              {"po_id", r.po_id},
              {"seq", r.seq},
              {"period_start", r.period_start},
              {"period_end", r.period_end},
              {"reserved", to_json(r.reserved)},
              {"used", to_json(r.used)},
              {"amount", r.amount.micros()},
              {"final", r.final}};
}

Result<UsageRecord> usage_record_from_json(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  UsageRecord u;
  u.session = r.str("session", 64);
  u.po_id = r.str("po_id", 64);
  u.seq = r.i64("seq", 1, INT64_MAX / 2);
  u.period_start = r.i64("period_start", 0);
  u.period_end = r.i64("period_end", 0);
  const Json& reserved = r.object("reserved");
  const Json& used = r.object("used");
  u.amount = Money::micros(r.i64("amount", 0));
  u.final = r.boolean("final");
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(u.reserved, resources_from_json(reserved, where + ".reserved"));
  XOP_ASSIGN_OR_RETURN(u.used, usage_from_json(used, where + ".used"));
  if (!is_session_id(u.session)) return invalid(where + ".session: malformed session id");
  if (!is_po_id(u.po_id)) return invalid(where + ".po_id: malformed");
  if (u.period_end < u.period_start || u.period_end - u.period_start > kMaxPeriodMs) {
    return invalid(where + ": period out of range");
  }
  return u;
}

Json to_json(const UsageBatch& b) {
  Json recs = Json::array();
  for (const auto& r : b.records) recs.push_back(to_json(r));
  return Json{{"server", b.server}, {"sent_at", b.sent_at}, {"records", std::move(recs)}};
}

Result<UsageBatch> usage_batch_from_json(const Json& j) {
  JsonReader r(j, "usage_batch");
  UsageBatch b;
  b.server = r.str("server", 64);
  b.sent_at = r.i64("sent_at", 0);
  const Json& recs = r.array("records", kMaxRecordsPerBatch);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_account_id(b.server)) return invalid("usage_batch.server: not an account id");
  for (size_t i = 0; i < recs.size(); ++i) {
    XOP_ASSIGN_OR_RETURN(auto rec, usage_record_from_json(recs[i], "usage_batch.records[" + std::to_string(i) + "]"));
    b.records.push_back(std::move(rec));
  }
  return b;
}

Result<UsageBatch> verify_usage_batch(const SignedDoc& doc) {
  if (doc.type != kUsageBatchType) return invalid("not a usage batch");
  XOP_RETURN_IF_ERROR(doc.verify());
  XOP_ASSIGN_OR_RETURN(auto b, usage_batch_from_json(doc.body));
  if (doc.signer.account_id() != b.server) {
    return make_error(ErrorCode::kUnauthenticated, "usage batch is not signed by the server it names");
  }
  return b;
}

}  // namespace xop
