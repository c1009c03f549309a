#include "proto/server_answers.h"

#include "core/schema.h"
#include "proto/session_spec.h"

namespace xop {
namespace {

constexpr size_t kMaxSessions = size_t{1} << 20;

const Schema<SessionEndpointInfo>& session_endpoint_schema() {
  static const auto s = Schema<SessionEndpointInfo>("endpoint")
                            .str("name", &SessionEndpointInfo::name, 32)
                            .str("protocol", &SessionEndpointInfo::protocol, 8)
                            .i64("port", &SessionEndpointInfo::port, 1, 65535)
                            .i64("host_port", &SessionEndpointInfo::host_port, 1, 65535)
                            .str("endpoint", &SessionEndpointInfo::endpoint, 300);
  return s;
}
const Schema<SessionNetworkInfo>& session_network_schema() {
  static const auto s =
      Schema<SessionNetworkInfo>("network")
          .str("address", &SessionNetworkInfo::address, 64)
          .array("endpoints", &SessionNetworkInfo::endpoints, session_endpoint_schema(), kMaxPublishedPorts);
  return s;
}

const Schema<SessionInfo>& session_info_schema() {
  static const auto s = Schema<SessionInfo>("session")
                            .str("id", &SessionInfo::id, 128)
                            .str("user", &SessionInfo::user, 128)
                            .str("po_id", &SessionInfo::po_id, 128)
                            .str("state", &SessionInfo::state, 32)
                            .str("reason", &SessionInfo::reason, 4096)
                            .i64("created_at", &SessionInfo::created_at)
                            .i64("started_at", &SessionInfo::started_at)
                            .i64("stopped_at", &SessionInfo::stopped_at)
                            // The spec as submitted, checked by its own codec where it is used (proto/session_spec.h).
                            .object_with<Json>(
                                "spec", &SessionInfo::spec, [](const Json& v) { return v; },
                                [](const Json& j, const std::string&) -> Result<Json> { return j; })
                            .i64("records", &SessionInfo::records, 0)
                            .object("usage", &SessionInfo::usage, usage_schema())
                            .i64("memory_bytes", &SessionInfo::memory_bytes, 0)
                            .i64("claimed_micros", &SessionInfo::claimed, 0)
                            .opt_i64("exit_code", &SessionInfo::exit_code, INT64_MIN, INT64_MAX, Absent::kNull)
                            .str("exit_reason", &SessionInfo::exit_reason, 4096)
                            .boolean_or("low_funds", &SessionInfo::low_funds, false)
                            .i64_or("frozen_until", &SessionInfo::frozen_until, 0, 0)
                            .opt_object("network", &SessionInfo::network, session_network_schema());
  return s;
}

struct SessionAnswer {
  SessionInfo session;
};
const Schema<SessionAnswer>& session_answer_schema() {
  static const auto s =
      Schema<SessionAnswer>("session_answer").object("session", &SessionAnswer::session, session_info_schema());
  return s;
}

struct SessionsAnswer {
  std::vector<SessionInfo> sessions;
};
const Schema<SessionsAnswer>& sessions_answer_schema() {
  static const auto s = Schema<SessionsAnswer>("sessions_answer")
                            .array("sessions", &SessionsAnswer::sessions, session_info_schema(), kMaxSessions);
  return s;
}

struct LogsAnswer {
  std::string logs;
};
const Schema<LogsAnswer>& logs_answer_schema() {
  static const auto s = Schema<LogsAnswer>("logs_answer").str("logs", &LogsAnswer::logs, size_t{16} << 20);
  return s;
}

const Schema<BlobStored>& blob_stored_schema() {
  static const auto s =
      Schema<BlobStored>("blob_answer").str("digest", &BlobStored::digest, 128).i64("size", &BlobStored::size, 0);
  return s;
}

}  // namespace

Json to_json(const SessionInfo& s) { return session_info_schema().encode(s); }
Result<SessionInfo> decode_session_info(const Json& j, const std::string& where) {
  return session_info_schema().decode(j, where);
}
Json session_answer_json(const SessionInfo& s) { return session_answer_schema().encode(SessionAnswer{s}); }
Result<SessionInfo> decode_session_answer(const Json& j) {
  return session_answer_schema().decode(j).map([](SessionAnswer a) { return std::move(a.session); });
}
Result<std::vector<SessionInfo>> decode_sessions_answer(const Json& j) {
  return sessions_answer_schema().decode(j).map([](SessionsAnswer a) { return std::move(a.sessions); });
}
Json logs_answer_json(const std::string& logs) { return logs_answer_schema().encode(LogsAnswer{logs}); }
Result<std::string> decode_logs_answer(const Json& j) {
  return logs_answer_schema().decode(j).map([](LogsAnswer a) { return std::move(a.logs); });
}
Json to_json(const BlobStored& b) { return blob_stored_schema().encode(b); }
Result<BlobStored> decode_blob_stored(const Json& j) { return blob_stored_schema().decode(j); }

}  // namespace xop
