// Idempotent money-moving POSTs (IETF httpapi Idempotency-Key semantics), as one piece any corp
// route opts into with a line (CorpApi::idempotent). A request carrying `Idempotency-Key`:
// - is fingerprinted: SHA-256 of its method, target, the caller's account id and its body;
// - is refused 400 invalid_idempotency_key when the header is malformed (proto/idempotency_key.h);
// - while the first request with the same (caller, key) is still being served, 409
//   idempotency_key_in_flight (a retry after it finishes gets its answer);
// - otherwise runs under ClearingHouse::run_idempotent: the first 2xx answer is stored with the
//   key in the same SQLite transaction as the money it moved, and every later request with the
//   same key and fingerprint gets that answer byte for byte (status, content type, body) with
//   `Idempotent-Replayed: true`; the same key with another fingerprint is 422
//   idempotency_key_reused. Keys are scoped per caller account and never expire (the ledger is
//   the dedup store). A request without the header runs as before.
// Failed answers (4xx/5xx) are not stored: a failed call changed nothing, so a retry runs again.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/time.h"
#include "corp/clearing_house.h"
#include "net/http.h"
#include "proto/idempotency_key.h"

namespace xop {

// Hex SHA-256 over the method, target, caller account id and the body's SHA-256, each
// length-delimited so that no two different requests share a fingerprint's input.
std::string idempotency_fingerprint(std::string_view method, std::string_view target, std::string_view caller,
                                    std::string_view body);

// The (scope, key) pairs whose first request is being served right now. Thread-safe.
class InFlightKeys {
 public:
  // Marks the pair as being served; false when it already is.
  bool enter(const std::string& scope, const std::string& key);
  void leave(const std::string& scope, const std::string& key);

 private:
  std::mutex mu_;
  std::set<std::pair<std::string, std::string>> keys_;
};

// Serves `q` through `handler` under its Idempotency-Key, as the header comment says; without
// the header, just `handler(q)`. A keyed request must be signed: when the transport has not
// verified it (q.caller unset), `authenticate` does, and `handler` gets the request with its
// caller set (so it does not verify, and consume, the signature twice). `now` is the corp's time.
using Authenticate = std::function<Result<PublicKey>(const HttpRequest&)>;
HttpResponse serve_idempotent(ClearingHouse& house, InFlightKeys& in_flight, const Authenticate& authenticate,
                              const HttpRequest& q, TimeMs now,
                              const std::function<HttpResponse(const HttpRequest&)>& handler);

}  // namespace xop
