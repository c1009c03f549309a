#include "proto/earnings.h"

namespace xop {
namespace {
constexpr size_t kMaxId = 128;
constexpr size_t kMaxName = 256;
}  // namespace

const Schema<ServerEarningsView>& server_earnings_schema() {
  static const auto s = Schema<ServerEarningsView>("server_earnings")
                            .str("server", &ServerEarningsView::server, kMaxId)
                            .str("name", &ServerEarningsView::name, kMaxName)
                            .i64("total_micros", &ServerEarningsView::total, 0)
                            .i64("today_micros", &ServerEarningsView::today, 0)
                            .i64("settlements", &ServerEarningsView::settlements, 0);
  return s;
}

const Schema<EarningsView>& earnings_schema() {
  static const auto s = Schema<EarningsView>("earnings")
                            .str("account", &EarningsView::account, kMaxId)
                            .str("owner", &EarningsView::owner, kMaxId)
                            .i64("day_start", &EarningsView::day_start, 0)
                            .i64("total_micros", &EarningsView::total, 0)
                            .i64("today_micros", &EarningsView::today, 0)
                            .array("servers", &EarningsView::servers, server_earnings_schema(), kMaxEarningsServers);
  return s;
}

Json to_json(const EarningsView& e) { return earnings_schema().encode(e); }
Result<EarningsView> decode_earnings(const Json& j) { return earnings_schema().decode(j); }

}  // namespace xop
