// XIS, the information service, with XenoSearch: keeps signed server adverts as soft state
// (each expires unless refreshed) and answers discovery queries. API: docs/api/xis.yaml.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "net/router.h"
#include "proto/search.h"

namespace xop {

struct XisOptions {
  int64_t max_ttl_ms = 60'000;   // an advert's ttl is capped at this
  size_t max_adverts = 100'000;  // refuse new servers beyond this
  int64_t replay_window_ms = 60'000;
  // This instance's identity, the audience requests to it are signed for (docs/formats.md) and
  // published in GET /v1/info. Empty: a random one per process ("xis" + 32 hex).
  std::string instance_id;
};

class XisService {
 public:
  XisService(XisOptions opts, const Clock& clock);
  ~XisService();
  XisService(const XisService&) = delete;
  XisService& operator=(const XisService&) = delete;

  [[nodiscard]] std::shared_ptr<const Router> router() const;
  // Verifies and stores (or refreshes) an advert.
  Status accept(const SignedDoc& advert_doc);
  [[nodiscard]] SearchResult search(const SearchQuery& q) const;
  [[nodiscard]] size_t live_adverts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
