#include "crypto/request_signature.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "core/ignore_error.h"
#include "crypto/digest.h"

namespace xop {
namespace {

class RequestSignatureTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{1'700'000'000'000};
  KeyPair key_ = KeyPair::generate();
  RequestVerifier verifier_{clock_, "corp-A", 60'000};

  RequestSignature sign(std::string_view method = "POST", std::string_view target = "/v1/x?a=1",
                        std::string_view body = R"({"k":1})", std::optional<TimeMs> ts = std::nullopt) {
    return sign_request(key_, method, target, ts.value_or(clock_.now_ms()), "corp-A", body);
  }
};

TEST_F(RequestSignatureTest, MessageFormat) {
  EXPECT_EQ(request_signing_message("GET", "/v1/a?b=c", 123, "svc", sha256_hex("body")),
            "xop-req-v2\nGET\n/v1/a?b=c\n123\nsvc\n" + sha256_hex("body"));
  const auto sig = sign();
  EXPECT_EQ(sig.audience, "corp-A");
  EXPECT_EQ(sig.content_sha256, sha256_hex(R"({"k":1})"));
  EXPECT_EQ(request_signing_message("GET", "/v1/a?b=c", 123, "svc", sha256_hex("body"), "00ff"),
            "xop-req-v2\nGET\n/v1/a?b=c\n123\nsvc\n" + sha256_hex("body") + "\n00ff");
  EXPECT_EQ(sig.nonce.size(), 32u);
  EXPECT_EQ(signature_headers(sig).size(), 6u);
  EXPECT_EQ(signature_headers(sig).at("X-Xop-Nonce"), sig.nonce);
}

// Two processes holding one key (two `xop` commands at once) sign the same request in the same
// millisecond: each request carries its own nonce, so neither is refused as the other's replay.
TEST_F(RequestSignatureTest, IdenticalRequestsSignedInOneMillisecondAreNotReplays) {
  const auto a = sign("GET", "/v1/accounts/x", "");
  const auto b = sign("GET", "/v1/accounts/x", "");
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_NE(a.signature_b64, b.signature_b64);
  EXPECT_TRUE(verifier_.verify("GET", "/v1/accounts/x", a, ""));
  EXPECT_TRUE(verifier_.verify("GET", "/v1/accounts/x", b, ""));
  auto again = verifier_.verify("GET", "/v1/accounts/x", a, "");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("replayed"), std::string::npos);
}

// The nonce is signed: changing, adding or dropping it breaks the signature; a malformed one is
// refused before the key is looked at. A signer that sends none (older clients) still verifies.
TEST_F(RequestSignatureTest, TheNonceIsSignedAndCheckedAndMayBeAbsent) {
  const auto sig = sign();
  for (const std::string& n : {std::string(32, 'a'), std::string()}) {
    auto forged = sig;
    forged.nonce = n;
    auto r = verifier_.verify("POST", "/v1/x?a=1", forged, R"({"k":1})");
    ASSERT_FALSE(r) << n;
    EXPECT_NE(r.error().message.find("does not verify"), std::string::npos) << r.error().message;
  }
  for (const std::string& n :
       {std::string("short"), std::string(32, 'G'), std::string(33, 'a'), std::string(4096, 'a')}) {
    auto forged = sig;
    forged.nonce = n;
    auto r = verifier_.verify("POST", "/v1/x?a=1", forged, R"({"k":1})");
    ASSERT_FALSE(r) << n;
    EXPECT_NE(r.error().message.find("X-Xop-Nonce"), std::string::npos) << r.error().message;
  }
  auto old = sig;
  old.nonce.clear();
  old.signature_b64 = base64_encode(
      key_.sign(request_signing_message("POST", "/v1/x?a=1", clock_.now_ms(), "corp-A", sha256_hex(R"({"k":1})"))));
  EXPECT_TRUE(verifier_.verify("POST", "/v1/x?a=1", old, R"({"k":1})"));
  EXPECT_TRUE(verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})"));
}

// Attack (issue 14, item 1): a request signed for one service, replayed to another. Each
// receiver verifies with its own audience, so the signature does not verify there, whatever
// audience header the replayer sends; at the right service it still works.
TEST_F(RequestSignatureTest, RequestSignedForAnotherServiceIsRefused) {
  RequestVerifier other(clock_, "server-B", 60'000);
  const auto sig = sign();
  auto r = other.verify("POST", "/v1/x?a=1", sig, R"({"k":1})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message.find("signed for \"corp-A\""), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("\"server-B\""), std::string::npos) << r.error().message;
  // Lying about the audience (or leaving the header out) does not help: the message differs.
  for (const char* lie : {"server-B", ""}) {
    auto forged = sig;
    forged.audience = lie;
    auto f = other.verify("POST", "/v1/x?a=1", forged, R"({"k":1})");
    ASSERT_FALSE(f.has_value()) << lie;
    EXPECT_EQ(f.error().code, ErrorCode::kUnauthenticated);
  }
  EXPECT_TRUE(verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})").has_value());
}

TEST_F(RequestSignatureTest, HeadersVerifyBeforeTheBodyAndTheBodyMustMatchTheirDigest) {
  const auto sig = sign();
  auto r = verifier_.verify_headers("POST", "/v1/x?a=1", sig);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(body_matches(sig, sha256_hex(R"({"k":1})")).has_value());
  auto bad = body_matches(sig, sha256_hex(R"({"k":2})"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);
  // A digest header that is not 64 lowercase hex, or that was changed, is refused.
  for (const std::string& d : {std::string(), std::string(64, 'A'), std::string(63, 'a'), sha256_hex("other")}) {
    auto s = sign("POST", "/v1/y");
    s.content_sha256 = d;
    EXPECT_FALSE(verifier_.verify_headers("POST", "/v1/y", s).has_value()) << d;
  }
  // A wrong body does not use up the signature: the genuine body is accepted afterwards.
  const auto fresh = sign("POST", "/v1/z");
  EXPECT_FALSE(verifier_.verify("POST", "/v1/z", fresh, "tampered").has_value());
  EXPECT_TRUE(verifier_.verify("POST", "/v1/z", fresh, R"({"k":1})").has_value());
}

TEST_F(RequestSignatureTest, ValidRequestIsAccepted) {
  const auto sig = sign();
  EXPECT_EQ(sig.key_b64, key_.public_key().base64());
  EXPECT_EQ(sig.timestamp, std::to_string(clock_.now_ms()));
  auto r = verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, key_.public_key());
}

TEST_F(RequestSignatureTest, TamperedPartsAreRefused) {
  const auto sig = sign();
  const auto expect_unauth = [&](std::string_view m, std::string_view t, const RequestSignature& s,
                                 std::string_view b) {
    auto r = verifier_.verify(m, t, s, b);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  };
  expect_unauth("PUT", "/v1/x?a=1", sig, R"({"k":1})");
  expect_unauth("POST", "/v1/x?a=2", sig, R"({"k":1})");
  expect_unauth("POST", "/v1/x", sig, R"({"k":1})");
  expect_unauth("POST", "/v1/x?a=1", sig, R"({"k":2})");
  expect_unauth("POST", "/v1/x?a=1", sig, "");
  auto ts = sig;
  ts.timestamp = std::to_string(clock_.now_ms() + 1);
  expect_unauth("POST", "/v1/x?a=1", ts, R"({"k":1})");
  auto other_key = sig;
  other_key.key_b64 = KeyPair::generate().public_key().base64();
  expect_unauth("POST", "/v1/x?a=1", other_key, R"({"k":1})");
  auto flipped = sig;
  auto raw = *base64_decode(sig.signature_b64);
  raw[0] = static_cast<char>(raw[0] ^ 0x80);
  flipped.signature_b64 = base64_encode(raw);
  expect_unauth("POST", "/v1/x?a=1", flipped, R"({"k":1})");
  // After all those refusals, the genuine request still goes through once.
  EXPECT_TRUE(verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})").has_value());
}

TEST_F(RequestSignatureTest, SignedByAnotherKeyIsRefused) {
  const auto other = KeyPair::generate();
  auto sig = sign_request(other, "GET", "/", clock_.now_ms(), "corp-A", "");
  sig.key_b64 = key_.public_key().base64();
  EXPECT_FALSE(verifier_.verify("GET", "/", sig, "").has_value());
}

TEST_F(RequestSignatureTest, MissingOrMalformedHeadersAreRefused) {
  const auto good = sign();
  std::vector<RequestSignature> bad;
  for (int i = 0; i < 3; ++i) {
    auto s = good;
    (i == 0 ? s.key_b64 : i == 1 ? s.timestamp : s.signature_b64).clear();
    bad.push_back(s);
  }
  for (const char* ts : {"abc", "12x", " 1", "1.5", "99999999999999999999999", "+1700000000000", "-"}) {
    auto s = good;
    s.timestamp = ts;
    bad.push_back(s);
  }
  for (const char* k : {"%%%", "AAAA"}) {
    auto s = good;
    s.key_b64 = k;
    bad.push_back(s);
  }
  for (const char* sg : {"%%%", "AAAA"}) {
    auto s = good;
    s.signature_b64 = sg;
    bad.push_back(s);
  }
  for (const auto& s : bad) {
    auto r = verifier_.verify("POST", "/v1/x?a=1", s, R"({"k":1})");
    ASSERT_FALSE(r.has_value()) << s.key_b64 << " " << s.timestamp << " " << s.signature_b64;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST_F(RequestSignatureTest, ReplayIsRefused) {
  const auto sig = sign();
  ASSERT_TRUE(verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})").has_value());
  auto r = verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message.find("replay"), std::string::npos);
  // Still refused later within the window.
  clock_.advance_ms(59'000);
  EXPECT_FALSE(verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})").has_value());
  // A fresh signature at another time is fine.
  EXPECT_TRUE(verifier_.verify("POST", "/v1/x?a=1", sign(), R"({"k":1})").has_value());
}

TEST_F(RequestSignatureTest, TimestampWindow) {
  const TimeMs now = clock_.now_ms();
  EXPECT_TRUE(verifier_.verify("GET", "/a", sign("GET", "/a", "", now - 60'000), "").has_value());
  EXPECT_TRUE(verifier_.verify("GET", "/b", sign("GET", "/b", "", now + 60'000), "").has_value());
  for (TimeMs ts : {now - 60'001, now + 60'001, TimeMs{0}, TimeMs{-1}, INT64_MAX, INT64_MIN}) {
    auto r = verifier_.verify("GET", "/c", sign("GET", "/c", "", ts), "");
    ASSERT_FALSE(r.has_value()) << ts;
    EXPECT_NE(r.error().message.find("window"), std::string::npos);
  }
}

TEST_F(RequestSignatureTest, OldSignatureOutsideWindowAfterClockMoves) {
  const auto sig = sign();
  clock_.advance_ms(60'001);
  auto r = verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("window"), std::string::npos);
}

TEST_F(RequestSignatureTest, ReplayCacheForgetsAfterTwiceTheWindowButNeverAcceptsAReplay) {
  RequestVerifier v(clock_, "corp-A", 1'000, /*max_remembered=*/2);
  const auto s1 = sign("GET", "/1", "");
  const auto s2 = sign("GET", "/2", "");
  ASSERT_TRUE(v.verify("GET", "/1", s1, "").has_value());
  ASSERT_TRUE(v.verify("GET", "/2", s2, "").has_value());
  // Full: a third distinct request is refused as resource exhaustion, not silently accepted.
  auto full = v.verify("GET", "/3", sign("GET", "/3", ""), "");
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::kResourceExhausted);
  // Within 2x the window the entries stay; past it they are dropped and space frees up.
  clock_.advance_ms(2'000);
  EXPECT_FALSE(v.verify("GET", "/4", sign("GET", "/4", ""), "").has_value());
  clock_.advance_ms(1);
  EXPECT_TRUE(v.verify("GET", "/5", sign("GET", "/5", ""), "").has_value());
  // The forgotten s1 is still refused, by the time window.
  auto replay = v.verify("GET", "/1", s1, "");
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(RequestSignatureTest, FutureDatedSignatureIsRememberedUntilItExpires) {
  // Signed at the far edge of the window: it stays acceptable until now + 2*window passes, so it
  // must be remembered that long.
  RequestVerifier v(clock_, "corp-A", 1'000);
  const auto sig = sign("GET", "/f", "", clock_.now_ms() + 1'000);
  ASSERT_TRUE(v.verify("GET", "/f", sig, "").has_value());
  for (int step = 0; step < 20; ++step) {
    clock_.advance_ms(100);
    EXPECT_FALSE(v.verify("GET", "/f", sig, "").has_value()) << step;
    // Unrelated traffic drives expiry.
    ignore_error(v.verify("GET", "/g" + std::to_string(step), sign("GET", "/g" + std::to_string(step), ""), ""),
                 "unrelated traffic: only its effect on expiry matters");
  }
}

TEST_F(RequestSignatureTest, ConcurrentReplaysAcceptExactlyOne) {
  const auto sig = sign();
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        if (verifier_.verify("POST", "/v1/x?a=1", sig, R"({"k":1})")) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
}

}  // namespace
}  // namespace xop
