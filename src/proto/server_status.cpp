#include "proto/server_status.h"

namespace xop {
namespace {
constexpr size_t kMaxId = 128;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxText = 4096;

const Schema<ServerRegistrationStatus>& registration_schema() {
  static const auto s = Schema<ServerRegistrationStatus>("registration")
                            .str("corp_url", &ServerRegistrationStatus::corp_url, kMaxUrl)
                            .boolean("registered", &ServerRegistrationStatus::registered)
                            .i64("registered_at", &ServerRegistrationStatus::registered_at, 0);
  return s;
}

const Schema<CorpDeliveryStatus>& corp_delivery_schema() {
  static const auto s = Schema<CorpDeliveryStatus>("corp")
                            .boolean("reachable", &CorpDeliveryStatus::reachable)
                            .i64("delivery_failures", &CorpDeliveryStatus::delivery_failures, 0)
                            .str("error", &CorpDeliveryStatus::error, kMaxText);
  return s;
}

const Schema<AdvertStatus>& advert_status_schema() {
  static const auto s = Schema<AdvertStatus>("advert")
                            .str("xis_url", &AdvertStatus::xis_url, kMaxUrl)
                            .str("state", &AdvertStatus::state, 16)
                            .i64("last_accepted_at", &AdvertStatus::last_accepted_at, 0)
                            .i64("age_ms", &AdvertStatus::age_ms, -1)
                            .i64("ttl_ms", &AdvertStatus::ttl_ms, 0)
                            .i64("interval_ms", &AdvertStatus::interval_ms, 0)
                            .boolean("fresh", &AdvertStatus::fresh)
                            .str("error", &AdvertStatus::error, kMaxText);
  return s;
}

const Schema<HostedSession>& hosted_session_schema() {
  static const auto s = Schema<HostedSession>("session")
                            .str("id", &HostedSession::id, kMaxId)
                            .str("user", &HostedSession::user, kMaxId)
                            .str("state", &HostedSession::state, 32)
                            .i64("started_at", &HostedSession::started_at, 0)
                            .i64("stopped_at", &HostedSession::stopped_at, 0)
                            .i64("claimed_micros", &HostedSession::claimed, 0);
  return s;
}
}  // namespace

const Schema<ServerStatusView>& server_status_schema() {
  static const auto s =
      Schema<ServerStatusView>("server_status")
          .str("server", &ServerStatusView::server, kMaxId)
          .str("name", &ServerStatusView::name, kMaxText)
          .str("owner", &ServerStatusView::owner, kMaxId)
          .i64("now", &ServerStatusView::now, 0)
          .object("registration", &ServerStatusView::registration, registration_schema())
          .object("corp", &ServerStatusView::corp, corp_delivery_schema())
          .object("advert", &ServerStatusView::advert, advert_status_schema())
          .object("capacity", &ServerStatusView::capacity, resources_schema())
          .object("in_use", &ServerStatusView::in_use, resources_schema())
          .object("free", &ServerStatusView::free, resources_schema())
          .array("sessions", &ServerStatusView::sessions, hosted_session_schema(), kMaxStatusSessions);
  return s;
}

Json to_json(const ServerStatusView& s) { return server_status_schema().encode(s); }
Result<ServerStatusView> decode_server_status(const Json& j) { return server_status_schema().decode(j); }

}  // namespace xop
