// XisClient over a RouterTransport to a stand-in XIS: each call decodes a well-formed answer and
// refuses wrong types, missing or unknown fields and oversized answers with kUnavailable.
#include "client/xis_client.h"

#include <gtest/gtest.h>

#include "crypto/signed_doc.h"
#include "net/router_transport.h"
#include "proto/advert.h"

namespace xop {
namespace {

class XisClientTest : public ::testing::Test {
 protected:
  XisClient client() {
    auto r = std::make_shared<Router>();
    auto h = [this](const HttpRequest&, const PathParams&) {
      if (raw) return HttpResponse{200, "application/json", *raw, "", {}};
      return json_response(200, answer);
    };
    r->add("GET", "/v1/info", h);
    r->add("GET", "/v1/adverts", h);
    r->add("POST", "/v1/adverts", h);
    r->add("POST", "/v1/search", h);
    return XisClient(ApiClient(std::make_shared<RouterTransport>(r), Endpoint{"xis.test", 1}, std::nullopt));
  }
  Json answer = Json::object();
  std::optional<std::string> raw;
};

TEST_F(XisClientTest, InfoDecodesStrictly) {
  auto c = client();
  answer = to_json(XisInfo{"xop-xis", "0.1.0", "aud", 3});
  auto i = c.info();
  ASSERT_TRUE(i) << i.error().to_string();
  EXPECT_EQ(i->adverts, 3);
  answer["adverts"] = "3";
  auto bad = c.info();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(bad.error().message.find("xis_info.adverts"), std::string::npos) << bad.error().message;
}

TEST_F(XisClientTest, SubmitAdvertDecodesStrictly) {
  auto c = client();
  answer = to_json(AdvertAccepted{true, 99});
  auto a = c.submit_advert(SignedDoc{});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->expires_at, 99);
  answer.erase("expires_at");
  EXPECT_FALSE(c.submit_advert(SignedDoc{}));
  answer = Json{{"accepted", true}, {"expires_at", 1}, {"extra", 1}};
  EXPECT_FALSE(c.submit_advert(SignedDoc{}));
}

TEST_F(XisClientTest, SearchAndAdvertsRefuseMalformedAnswers) {
  auto c = client();
  answer = Json{{"candidates", Json::array()}, {"rejected", Json::array()}};
  auto s = c.search(SearchQuery{});
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(s->candidates.empty());
  answer = Json{{"candidates", "none"}, {"rejected", Json::array()}};
  EXPECT_FALSE(c.search(SearchQuery{}));
  answer = Json{{"adverts", Json::array()}};
  auto ads = c.adverts();
  ASSERT_TRUE(ads) << ads.error().to_string();
  EXPECT_TRUE(ads->empty());
  // One malformed or forged element is left out; the well-formed adverts beside it still count.
  const KeyPair k = KeyPair::generate();
  const SignedDoc good = *SignedDoc::sign(kAdvertType, Json{{"name", "good"}}, k);
  Json forged = SignedDoc::sign(kAdvertType, Json{{"name", "forged"}}, k)->to_json();
  forged["body"]["name"] = "tampered";
  const SignedDoc other_type = *SignedDoc::sign("price_sheet", Json{{"name", "sheet"}}, k);
  answer = Json{{"adverts", Json::array({Json{{"not", "a doc"}}, good.to_json(), forged, other_type.to_json(), 7})}};
  ads = c.adverts();
  ASSERT_TRUE(ads) << ads.error().to_string();
  ASSERT_EQ(ads->size(), 1u);
  EXPECT_EQ(ads->front().body.value("name", ""), "good");
  // The answer's own shape stays strict.
  answer = Json{{"adverts", "none"}};
  EXPECT_FALSE(c.adverts());
  answer = Json{{"adverts", Json::array()}, {"extra", 1}};
  EXPECT_FALSE(c.adverts());
  raw = std::string(XisClient::kMaxSearchAnswerBytes + 1, ' ');
  auto big = c.search(SearchQuery{});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace xop
