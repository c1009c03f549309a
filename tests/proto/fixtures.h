// Builders of valid, signed protocol documents for the proto tests.
#pragma once

#include "../support/builders.h"  // relative: the benches include this header without tests/ on the path
#include "crypto/keys.h"
#include "proto/advert.h"
#include "proto/purchase_order.h"
#include "proto/session_spec.h"
#include "proto/usage_record.h"

namespace xop::testing {

inline Advert sample_advert(const KeyPair& server) {
  Advert a;
  a.server = server.account_id();
  a.name = "cam-1";
  a.endpoint = "http://127.0.0.1:7001";
  a.city = "Cambridge";
  a.location = GeoPoint{52'205'000, 119'000};
  a.capacity = Resources{8000, int64_t{16} << 30, int64_t{100} << 30, 1'000'000'000};
  a.free = Resources{4000, int64_t{8} << 30, int64_t{50} << 30, 500'000'000};
  a.price_sheet = signed_price_sheet(server);
  a.sandboxes = {"runc"};
  a.images = {"sha256:" + std::string(64, 'a')};
  a.issued_at = 1'700'000'000'000;
  a.ttl_ms = 30'000;
  return a;
}

inline PurchaseOrder sample_po(const KeyPair& user, const KeyPair& server) {
  PurchaseOrder po;
  po.po_id = "po" + std::string(32, '1');
  po.user = user.account_id();
  po.server = server.account_id();
  po.price_sheet = signed_price_sheet(server);
  po.max_amount = Money::micros(5'000'000);
  po.issued_at = 1'700'000'000'000;
  po.expires_at = 1'700'000'600'000;
  return po;
}

inline UsageRecord sample_record(int64_t seq) {
  UsageRecord r;
  r.session = "s" + std::string(32, 'b');
  r.po_id = "po" + std::string(32, '1');
  r.seq = seq;
  r.period_start = 1'700'000'000'000 + (seq - 1) * 10'000;
  r.period_end = r.period_start + 10'000;
  r.reserved = Resources{500, 256 << 20, 0, 0};
  r.used = Usage{1'000'000'000, int64_t{128} << 20, 4096, 1500};
  r.amount = Money::micros(1234);
  r.final = false;
  return r;
}

inline SessionSpec sample_spec() {
  SessionSpec s;
  s.name = "web-1";
  s.image = "sha256:" + std::string(64, 'c');
  s.command = {"/bin/sh", "-c", "echo hi"};
  s.env = {{"PATH", "/bin"}, {"GREETING", "hello world"}};
  s.resources = Resources{500, 64 << 20, 0, 0};
  s.pids = 32;
  return s;
}

}  // namespace xop::testing
