// What a ledger transaction does (ledger.h), with the one string form used on the wire
// (statements) and in the store. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace xop {

enum class TxKind {
  kDeposit,     // external:deposits -> user (the admin's faucet)
  kHold,        // user -> hold:<po>, when a purchase order is issued
  kSettlement,  // hold:<po> -> user:<server owner>, for a usage record
  kRelease,     // hold:<po> -> user, the rest after a session's final record
  kExpire,      // hold:<po> -> user, a hold no usage will claim (expiry.h)
  kPayout,      // user -> external:payouts (money leaves the platform, admin-approved)
  kExtend,      // user -> hold:<po>, when its user extends an open purchase order
};

constexpr const char* to_string(TxKind k) {
  switch (k) {
    case TxKind::kDeposit:
      return "deposit";
    case TxKind::kHold:
      return "hold";
    case TxKind::kSettlement:
      return "settlement";
    case TxKind::kRelease:
      return "release";
    case TxKind::kExpire:
      return "expire";
    case TxKind::kPayout:
      return "payout";
    case TxKind::kExtend:
      return "extend";
  }
  return "";
}

// The kind named `s`, or nullopt for any other string.
constexpr std::optional<TxKind> parse_tx_kind(std::string_view s) {
  for (TxKind k : {TxKind::kDeposit, TxKind::kHold, TxKind::kSettlement, TxKind::kRelease, TxKind::kExpire,
                   TxKind::kPayout, TxKind::kExtend}) {
    if (s == to_string(k)) return k;
  }
  return std::nullopt;
}

}  // namespace xop
