// Sharing adverts between XIS instances, the parts around the bus (xis/advert_bus.h): what an
// instance hands to its bus, and what it admits from one. A recording bus stands in for NATS
// here; tests/integration/xis_sharing_test.cpp runs the real one.
#include <gtest/gtest.h>

#include <mutex>

#include "core/clock.h"
#include "proto/xis_bodies.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop::testing {
namespace {

class RecordingBus : public AdvertBus {
 public:
  void publish(const std::string& server, std::string body) override {
    std::lock_guard lock(mu_);
    published.emplace_back(server, std::move(body));
  }
  [[nodiscard]] AdvertBusStats stats() const override { return {}; }
  std::vector<std::pair<std::string, std::string>> published;

 private:
  std::mutex mu_;
};

struct Instances {
  SimulatedClock clock{1'700'000'000'000};
  XisService a{XisOptions{}, clock};
  XisService b{XisOptions{}, clock};
  RecordingBus bus_a;
  RecordingBus bus_b;
  Instances() {
    a.set_bus(&bus_a);
    b.set_bus(&bus_b);
  }
  ~Instances() {
    a.set_bus(nullptr);
    b.set_bus(nullptr);
  }
};

AdvertSpec at(TimeMs t) {
  AdvertSpec s;
  s.issued_at = t;
  return s;
}

TEST(XisSharingUnitTest, AnAdmittedAdvertIsPublishedAndAdmittedByAnotherInstanceButNotPublishedAgain) {
  Instances in;
  const KeyPair k = KeyPair::generate();
  ASSERT_TRUE(in.a.accept(signed_advert(k, at(in.clock.now_ms()))));
  ASSERT_EQ(in.bus_a.published.size(), 1U);
  EXPECT_EQ(in.bus_a.published[0].first, k.account_id());
  auto shared = decode_shared_advert(in.bus_a.published[0].second);
  ASSERT_TRUE(shared) << shared.error().message;
  EXPECT_EQ(shared->submission.advert.server, k.account_id());
  EXPECT_EQ(shared->owner, "");

  ASSERT_TRUE(in.b.accept_shared(in.bus_a.published[0].second));
  EXPECT_EQ(in.b.live_adverts(), 1U);
  EXPECT_TRUE(in.bus_b.published.empty()) << "a shared advert must not be shared again (no echo)";
  // The same advert again (its own echo, or another instance's copy): a harmless conflict.
  auto again = in.b.accept_shared(in.bus_a.published[0].second);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST(XisSharingUnitTest, AnOlderAdvertReplayedOntoTheBusDoesNotRollAServerBack) {
  Instances in;
  const KeyPair k = KeyPair::generate();
  const TimeMs t0 = in.clock.now_ms();
  const std::string old_body = encode_shared_advert(signed_advert(k, at(t0)), "");
  ASSERT_TRUE(in.b.accept_shared(encode_shared_advert(signed_advert(k, at(t0 + 1'000)), "")));
  auto r = in.b.accept_shared(old_body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  auto result = in.b.search(SearchQuery{});
  ASSERT_EQ(result.candidates.size(), 1U);
  EXPECT_EQ(result.candidates[0].advert.issued_at, t0 + 1'000);
}

TEST(XisSharingUnitTest, HostileSharedAdvertsAreRefusedAndChangeNothing) {
  Instances in;
  const KeyPair k = KeyPair::generate();
  const SignedDoc good = signed_advert(k, at(in.clock.now_ms()));
  Json tampered = good.to_json();
  tampered["body"]["name"] = "not what was signed";
  Json other_type = good.to_json();
  other_type["type"] = "price-sheet";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"not json", "{{{"},
      {"array", "[]"},
      {"no owner", Json{{"advert", good.to_json()}}.dump()},
      {"unknown key", Json{{"advert", good.to_json()}, {"owner", ""}, {"extra", 1}}.dump()},
      {"owner not an account", Json{{"advert", good.to_json()}, {"owner", "root"}}.dump()},
      {"owner wrong type", Json{{"advert", good.to_json()}, {"owner", 7}}.dump()},
      {"tampered", Json{{"advert", tampered}, {"owner", ""}}.dump()},
      {"other document type", Json{{"advert", other_type}, {"owner", ""}}.dump()},
      {"oversized", Json{{"advert", good.to_json()}, {"owner", std::string(kMaxSharedAdvertBody, 'a')}}.dump()},
  };
  for (const auto& [what, body] : cases) {
    auto r = in.b.accept_shared(body);
    EXPECT_FALSE(r) << what << " was admitted";
    if (!r) {
      EXPECT_FALSE(r.error().message.empty()) << what;
    }
  }
  EXPECT_EQ(in.b.live_adverts(), 0U);
  EXPECT_TRUE(in.bus_b.published.empty());
  // A nested depth bomb does not crash the decoder.
  EXPECT_FALSE(in.b.accept_shared(std::string(100'000, '[')));
}

TEST(XisSharingUnitTest, AnEndpointHeldByAnotherLiveServerIsRefusedFromTheBusToo) {
  Instances in;
  const KeyPair k1 = KeyPair::generate();
  const KeyPair k2 = KeyPair::generate();
  Advert a1 = make_advert(k1, at(in.clock.now_ms()));
  Advert a2 = make_advert(k2, at(in.clock.now_ms()));
  a2.endpoint = a1.endpoint;
  ASSERT_TRUE(in.b.accept_shared(encode_shared_advert(sign_advert(k1, a1), "")));
  auto r = in.b.accept_shared(encode_shared_advert(sign_advert(k2, a2), ""));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_NE(r.error().message.find("held by"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace xop::testing
