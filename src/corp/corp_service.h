// XenoCorp, the clearing house, as one service: the domain (clearing_house.h: accounts and keys,
// balances, purchase orders with holds, the double-entry ledger, settlement of signed usage
// records, statements) composed with its HTTP API (corp_api.h, docs/api/corp.yaml), which
// router() serves, on the clock it was opened with (the only place the corp reads the time).
// Thread-safe.
#pragma once

#include <memory>

#include "core/clock.h"
#include "corp/clearing_house.h"
#include "corp/corp_api.h"
#include "corp/corp_options.h"
#include "corp/ledger_check.h"
#include "crypto/keys.h"
#include "net/router.h"

namespace xop {

class CorpService {
 public:
  virtual ~CorpService() = default;
  static Result<std::unique_ptr<CorpService>> open(CorpOptions opts, KeyPair corp_key, const Clock& clock);

  [[nodiscard]] virtual std::shared_ptr<const Router> router() const = 0;
  [[nodiscard]] virtual const PublicKey& public_key() const = 0;
  // A full, fresh check at the clock's time. It reads a snapshot on a connection of its own, so
  // it does not hold up other requests however large the ledger is.
  virtual Result<LedgerCheck> check_ledger() = 0;
  // The domain object behind the API, for callers that drive the corp without HTTP (a
  // simulator): operations on it are the same as the API's, with `now` passed explicitly.
  virtual ClearingHouse& clearing_house() = 0;
};

}  // namespace xop
