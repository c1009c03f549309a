// XenoCorp's HTTP API (docs/api/corp.yaml) over a ClearingHouse: decodes each request
// (corp_requests.h), authenticates it (net/auth.h, for the corp's audience within its replay
// window), reads `now` from the clock once per request, calls the clearing house and encodes its
// answer. No money logic lives here. Checks that need no state run in the order they always ran
// (e.g. deposit refuses a non-admin key before reading the body), so errors keep their
// precedence. Thread-safe as the clearing house is.
#pragma once

#include <memory>

#include "core/clock.h"
#include "corp/clearing_house.h"
#include "corp/idempotency.h"
#include "corp/ledger_check.h"
#include "crypto/request_signature.h"
#include "net/router.h"
#include "proto/corp_answers.h"

namespace xop {

class CorpApi {
 public:
  // `house` and `clock` must outlive this object; the router must not outlive it.
  CorpApi(ClearingHouse& house, const Clock& clock);
  CorpApi(const CorpApi&) = delete;
  CorpApi& operator=(const CorpApi&) = delete;

  [[nodiscard]] std::shared_ptr<const Router> router() const { return router_; }

 private:
  using Method = Result<HttpResponse> (CorpApi::*)(const HttpRequest&, const PathParams&);
  HttpResponse guarded(const HttpRequest& q, const PathParams& p, Method m);
  // The route handler of `m` under the request's Idempotency-Key (idempotency.h): a money-moving
  // POST opts in by registering idempotent(&CorpApi::x) instead of route(&CorpApi::x).
  Handler idempotent(Method m);
  Result<Caller> signed_caller(const HttpRequest& q);

  HttpResponse info(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> register_account(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> get_account(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> earnings(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> account_pos(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> get_server(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> deposit(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> payout(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> create_po(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> get_po(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> close_po(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> extend_po(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> usage(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> statement(const HttpRequest& q, const PathParams& p);
  Result<HttpResponse> ledger_check(const HttpRequest& q, const PathParams& p);

  ClearingHouse& house_;
  const Clock& clock_;
  RequestVerifier verifier_;
  InFlightKeys in_flight_;
  std::shared_ptr<const Router> router_;
};

// The wire form of a ledger check (GET /v1/ledger/check), with every figure.
LedgerCheckView ledger_check_view(const LedgerCheck& c);
Json to_json(const LedgerCheck& c);

}  // namespace xop
