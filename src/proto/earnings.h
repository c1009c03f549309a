// GET /v1/accounts/{id}/earnings (docs/api/corp.yaml): what an owner's servers earned, from the
// corp's ledger. Declared once as Schema tables: the corp encodes with to_json(), clients decode
// strictly (unknown, missing, mistyped or negative fields are kInvalidArgument naming the field,
// e.g. "earnings.servers[1].total: ...").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/schema.h"

namespace xop {

// One server's part: settlements credited to its owner, in total and since `day_start`.
struct ServerEarningsView {
  std::string server;
  std::string name;
  int64_t total = 0;  // micros
  int64_t today = 0;  // micros
  int64_t settlements = 0;
};

struct EarningsView {
  std::string account;  // the account asked about (a user, or one server)
  std::string owner;    // the user the money went to
  int64_t day_start = 0;
  int64_t total = 0;  // micros, sum over `servers`
  int64_t today = 0;  // micros, sum over `servers`
  std::vector<ServerEarningsView> servers;
};

// At most this many servers in one answer.
inline constexpr size_t kMaxEarningsServers = 100'000;

const Schema<ServerEarningsView>& server_earnings_schema();
const Schema<EarningsView>& earnings_schema();
Json to_json(const EarningsView& e);
Result<EarningsView> decode_earnings(const Json& j);

}  // namespace xop
