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

const Schema<UsageRecord>& usage_record_schema() {
  static const auto s =
      Schema<UsageRecord>("usage_record")
          .str("session", &UsageRecord::session, 64)
          .str("po_id", &UsageRecord::po_id, 64)
          .i64("seq", &UsageRecord::seq, 1, INT64_MAX / 2)
          .i64("period_start", &UsageRecord::period_start, 0)
          .i64("period_end", &UsageRecord::period_end, 0)
          .object("reserved", &UsageRecord::reserved, resources_schema())
          .object("used", &UsageRecord::used, usage_schema())
          .custom(
              "amount_micros", [](const UsageRecord& u) { return Json(u.amount.micros()); },
              [](JsonReader& r, UsageRecord& u, const char* k) { u.amount = Money::micros(r.i64(k, 0)); })
          .boolean("final", &UsageRecord::final)
          .check([](const UsageRecord& u) { return is_session_id(u.session) ? "" : ".session: malformed session id"; })
          .check([](const UsageRecord& u) { return is_po_id(u.po_id) ? "" : ".po_id: malformed"; })
          .check([](const UsageRecord& u) {
            const bool ok = u.period_end >= u.period_start && u.period_end - u.period_start <= kMaxPeriodMs;
            return ok ? "" : ": period out of range";
          });
  return s;
}

const Schema<UsageBatch>& usage_batch_schema() {
  static const auto s =
      Schema<UsageBatch>("usage_batch")
          .str("server", &UsageBatch::server, 64)
          .i64("sent_at", &UsageBatch::sent_at, 0)
          .array("records", &UsageBatch::records, usage_record_schema(), kMaxRecordsPerBatch)
          .check([](const UsageBatch& b) { return is_account_id(b.server) ? "" : ".server: not an account id"; });
  return s;
}

Json to_json(const UsageRecord& r) { return usage_record_schema().encode(r); }
Result<UsageRecord> usage_record_from_json(const Json& j, const std::string& where) {
  return usage_record_schema().decode(j, where);
}
Json to_json(const UsageBatch& b) { return usage_batch_schema().encode(b); }
Result<UsageBatch> usage_batch_from_json(const Json& j) { return usage_batch_schema().decode(j); }

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
