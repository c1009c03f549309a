#include "proto/server_answers.h"

namespace xop {

Json to_json(const SessionInfo& s) {
  Json j{{"id", s.id},
         {"user", s.user},
         {"po_id", s.po_id},
         {"state", s.state},
         {"reason", s.reason},
         {"created_at", s.created_at},
         {"started_at", s.started_at},
         {"stopped_at", s.stopped_at},
         {"spec", s.spec},
         {"records", s.records},
         {"usage", to_json(s.usage)},
         {"memory_bytes", s.memory_bytes},
         {"claimed", s.claimed}};
  j["exit_code"] = s.exit_code ? Json(*s.exit_code) : Json(nullptr);
  j["exit_reason"] = s.exit_reason;
  return j;
}

Result<SessionInfo> decode_session_info(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  SessionInfo s;
  s.id = r.str("id", 128);
  s.user = r.str("user", 128);
  s.po_id = r.str("po_id", 128);
  s.state = r.str("state", 32);
  s.reason = r.str("reason", 4096);
  s.created_at = r.i64("created_at");
  s.started_at = r.i64("started_at");
  s.stopped_at = r.i64("stopped_at");
  s.spec = r.object("spec");
  s.records = r.i64("records", 0);
  const Json& usage = r.object("usage");
  s.memory_bytes = r.i64("memory_bytes", 0);
  s.claimed = r.i64("claimed", 0);
  s.exit_code = r.opt_i64("exit_code");
  s.exit_reason = r.str("exit_reason", 4096);
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(s.usage, usage_from_json(usage, where + ".usage"));
  return s;
}

Json session_answer_json(const SessionInfo& s) { return Json{{"session", to_json(s)}}; }

Result<SessionInfo> decode_session_answer(const Json& j) {
  JsonReader r(j, "session_answer");
  const Json& s = r.object("session");
  XOP_RETURN_IF_ERROR(r.finish());
  return decode_session_info(s, "session_answer.session");
}

Result<std::vector<SessionInfo>> decode_sessions_answer(const Json& j) {
  JsonReader r(j, "sessions_answer");
  const Json& arr = r.array("sessions", size_t{1} << 20);
  XOP_RETURN_IF_ERROR(r.finish());
  std::vector<SessionInfo> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    XOP_ASSIGN_OR_RETURN(auto s, decode_session_info(arr[i], "sessions_answer.sessions[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Json logs_answer_json(const std::string& logs) { return Json{{"logs", logs}}; }

Result<std::string> decode_logs_answer(const Json& j) {
  JsonReader r(j, "logs_answer");
  std::string logs = r.str("logs", size_t{16} << 20);
  XOP_RETURN_IF_ERROR(r.finish());
  return logs;
}

Json to_json(const BlobStored& b) { return Json{{"digest", b.digest}, {"size", b.size}}; }

Result<BlobStored> decode_blob_stored(const Json& j) {
  JsonReader r(j, "blob_answer");
  BlobStored b;
  b.digest = r.str("digest", 128);
  b.size = r.i64("size", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  return b;
}

}  // namespace xop
