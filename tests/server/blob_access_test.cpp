// Who may download an image blob from a server (issue 14, item 8): its owners (the accounts that
// uploaded it), peers presenting a grant signed by an owner, and anyone when an owner marked the
// image public. Everyone else learns nothing, not even whether the blob exists.
#include <gtest/gtest.h>

#include "client/api_client.h"
#include "crypto/digest.h"
#include "image/oci_image.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "proto/blob_grant.h"
#include "server/server_api.h"
#include "server/server_api_fixture.h"

namespace xop {
namespace {

using testing::SessionEnv;

class BlobAccessTest : public testing::ServerApiFixture {
 protected:
  int put(ApiClient& c, const std::string& data) {
    auto r = c.call_raw("PUT", "/v1/blobs/" + oci_digest(data), data, "application/octet-stream");
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->status : 0;
  }
  HttpResponse get(ApiClient& c, const std::string& digest, const std::string& method = "GET") {
    auto r = c.call_raw(method, "/v1/blobs/" + digest, "");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : HttpResponse{};
  }

  // A GET signed by `peer` (through sign_request) carrying `grant` in X-Xop-Grant.
  HttpResponse peer_get(const KeyPair& peer, const std::string& digest, const std::string& grant) {
    HttpClient http(*parse_endpoint(http_->url()));
    const std::string target = "/v1/blobs/" + digest;
    // Distinct timestamps: an identical signature would be refused as a replay.
    auto sig = sign_request(peer, "GET", target, env_.clock.now_ms() + peer_requests_++, "server-under-test", "");
    std::map<std::string, std::string> h = signature_headers(sig);
    if (!grant.empty()) h["X-Xop-Grant"] = grant;
    auto r = http.request("GET", target, "", h);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : HttpResponse{};
  }
  std::string grant(const KeyPair& user, const KeyPair& peer, std::vector<std::string> digests, int64_t ttl_ms) {
    auto g = sign_blob_grant(BlobGrant{"", peer.account_id(), std::move(digests), env_.clock.now_ms() + ttl_ms}, user);
    EXPECT_TRUE(g) << g.error().message;
    return g ? blob_grant_header(*g) : "";
  }
  // The digests of the fixture's image: manifest, config, layer.
  std::vector<std::string> image_blobs() {
    auto m = parse_oci_manifest(*env_.images->read_blob(env_.image));
    EXPECT_TRUE(m);
    return {env_.image, m->config.digest, m->layers.at(0).desc.digest};
  }

  int64_t peer_requests_ = 0;
};

// The attack: a stranger downloaded a user's image blob without any credentials.
TEST_F(BlobAccessTest, AnonymousGetOfAPrivateBlobIs401) {
  const std::string data = "alice's private layer";
  ASSERT_EQ(put(*alice_, data), 201);
  const auto r = get(*anon_, oci_digest(data));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.body.find(data), std::string::npos);
  // A blob that is not there at all looks exactly the same to a stranger.
  EXPECT_EQ(get(*anon_, oci_digest("never uploaded")).status, 401);
  EXPECT_EQ(get(*anon_, oci_digest(data), "HEAD").status, 401);
}

TEST_F(BlobAccessTest, AnotherUsersSignedGetIs404LikeAMissingBlob) {
  const std::string data = "alice's private layer";
  ASSERT_EQ(put(*alice_, data), 201);
  const auto r = get(*bob_, oci_digest(data));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.body.find(data), std::string::npos);
  const auto missing = get(*bob_, oci_digest("never uploaded"));
  EXPECT_EQ(missing.status, 404);
  // Same code and same message shape: nothing tells the two apart.
  EXPECT_EQ(parse_json(r.body).value()["error"]["code"], parse_json(missing.body).value()["error"]["code"]);
  EXPECT_EQ(get(*bob_, oci_digest(data), "HEAD").status, 404);
}

TEST_F(BlobAccessTest, OwnersSignedGetIsServed) {
  const std::string data = "alice's private layer";
  ASSERT_EQ(put(*alice_, data), 201);
  const auto r = get(*alice_, oci_digest(data));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, data);
  EXPECT_EQ(get(*alice_, oci_digest(data), "HEAD").status, 200);
}

// Claiming ownership of a stored blob takes its bytes: a PUT with the digest of alice's blob
// and other bytes is refused and does not make bob an owner.
TEST_F(BlobAccessTest, PutOfAnExistingDigestWithOtherBytesGrantsNothing) {
  const std::string data = "alice's private layer";
  ASSERT_EQ(put(*alice_, data), 201);
  auto r = bob_->call_raw("PUT", "/v1/blobs/" + oci_digest(data), "garbage", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(get(*bob_, oci_digest(data)).status, 404);
  // Uploading the real bytes makes bob a second owner.
  EXPECT_EQ(put(*bob_, data), 201);
  EXPECT_EQ(get(*bob_, oci_digest(data)).body, data);
  EXPECT_EQ(put(*bob_, data), 200);  // already his
}

TEST_F(BlobAccessTest, PublicImageIsServedToAnyoneAndUnmarkingEndsIt) {
  const auto blobs = image_blobs();
  ASSERT_TRUE(alice_->call("GET", "/v1/info"));
  // The fixture's image is alice's and bob's; a carol owns nothing and cannot publish it.
  auto carol = client(KeyPair::generate());
  auto refused = carol->call("PUT", "/v1/images/" + env_.image + "/public");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
  for (const auto& b : blobs) EXPECT_EQ(get(*anon_, b).status, 401) << b;
  EXPECT_FALSE(anon_->call("PUT", "/v1/images/" + env_.image + "/public"));  // unsigned: 401

  auto marked = alice_->call("PUT", "/v1/images/" + env_.image + "/public");
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_EQ((*marked)["public"], true);
  for (const auto& b : blobs) {
    const auto r = get(*anon_, b);
    EXPECT_EQ(r.status, 200) << b;
    EXPECT_EQ(r.body, *env_.images->read_blob(b));
    EXPECT_EQ(get(*carol, b).status, 200) << b;
  }
  // Bob's unmark does not undo alice's mark; alice's own does.
  auto bob_unmark = bob_->call("DELETE", "/v1/images/" + env_.image + "/public");
  ASSERT_TRUE(bob_unmark);
  EXPECT_EQ((*bob_unmark)["public"], true);
  auto unmarked = alice_->call("DELETE", "/v1/images/" + env_.image + "/public");
  ASSERT_TRUE(unmarked);
  EXPECT_EQ((*unmarked)["public"], false);
  for (const auto& b : blobs) EXPECT_EQ(get(*anon_, b).status, 401) << b;
}

// Publishing needs every blob: a manifest of carol's that names alice's private layer does not
// make the layer public.
TEST_F(BlobAccessTest, PublishingAManifestOverSomeoneElsesLayerIsRefused) {
  const std::string secret_layer = testing::TarBuilder().file("secret", "alice's\n", 0644).build();
  ASSERT_EQ(put(*alice_, secret_layer), 201);
  const std::string config = R"({"os":"linux","architecture":"amd64","config":{"Cmd":["/x"]}})";
  const std::string m =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(secret_layer) +
      R"(","size":)" + std::to_string(secret_layer.size()) + "}]}";
  auto carol = client(KeyPair::generate());
  ASSERT_EQ(put(*carol, config), 201);
  ASSERT_EQ(put(*carol, m), 201);
  auto r = carol->call("PUT", "/v1/images/" + oci_digest(m) + "/public");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(get(*anon_, oci_digest(secret_layer)).status, 401);
  EXPECT_EQ(get(*carol, oci_digest(secret_layer)).status, 404);
  // A stranger trying to publish a stored blob that is no manifest learns nothing either.
  auto not_manifest = carol->call("PUT", "/v1/images/" + oci_digest(secret_layer) + "/public");
  ASSERT_FALSE(not_manifest);
  EXPECT_EQ(not_manifest.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(not_manifest.error().message, "no such image: " + oci_digest(secret_layer));
}

// Running an image reads it: a session of someone else's private image is refused as missing.
TEST_F(BlobAccessTest, SessionOfAnotherUsersPrivateImageIsRefusedAsMissing) {
  auto carol_key = KeyPair::generate();
  auto carol = client(carol_key);
  auto r = carol->call("POST", "/v1/sessions", to_json(CreateSessionRequest{env_.spec(), env_.po(carol_key)}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("missing"), std::string::npos) << r.error().message;
  EXPECT_TRUE(env_.manager->list("")->empty());
  EXPECT_EQ(env_.sandbox.count(), 0u);
}

TEST_F(BlobAccessTest, SessionOfAPublicImageIsAdmitted) {
  ASSERT_TRUE(alice_->call("PUT", "/v1/images/" + env_.image + "/public"));
  auto carol_key = KeyPair::generate();
  auto carol = client(carol_key);
  auto r = carol->call("POST", "/v1/sessions", to_json(CreateSessionRequest{env_.spec(), env_.po(carol_key)}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["session"]["state"], "running");
}

// A peer server preparing a session of alice's fetches her blobs with her grant.
TEST_F(BlobAccessTest, GrantServesOnlyTheNamedPeerOnlyTheNamedDigestsOnlyBeforeExpiry) {
  const auto blobs = image_blobs();
  const KeyPair peer = KeyPair::generate();
  const KeyPair other_peer = KeyPair::generate();
  const std::string g = grant(env_.alice, peer, blobs, 60'000);
  for (const auto& b : blobs) {
    const auto r = peer_get(peer, b, g);
    EXPECT_EQ(r.status, 200) << b << " " << r.body;
    EXPECT_EQ(r.body, *env_.images->read_blob(b));
  }
  // Without the grant the peer is a stranger.
  EXPECT_EQ(peer_get(peer, blobs[0], "").status, 404);
  // Another server presenting the same grant is refused.
  EXPECT_EQ(peer_get(other_peer, blobs[0], g).status, 403);
  // A digest the grant does not name is refused, even one alice owns.
  const std::string data = "alice's other blob";
  ASSERT_EQ(put(*alice_, data), 201);
  EXPECT_EQ(peer_get(peer, oci_digest(data), g).status, 403);
  // A grant by carol, who owns none of it, opens nothing.
  const KeyPair carol = KeyPair::generate();
  EXPECT_EQ(peer_get(peer, blobs[0], grant(carol, peer, blobs, 60'000)).status, 404);
  // A grant whose signer is not the user it names is refused.
  auto forged = SignedDoc::sign(
      kBlobGrantType,
      to_json(BlobGrant{env_.alice.account_id(), peer.account_id(), blobs, env_.clock.now_ms() + 60'000}), carol);
  ASSERT_TRUE(forged);
  EXPECT_EQ(peer_get(peer, blobs[0], blob_grant_header(*forged)).status, 401);
  EXPECT_EQ(peer_get(peer, blobs[0], "bm90IGEgZ3JhbnQ=").status, 403);
  // At the expiry it stops working.
  env_.clock.advance_ms(60'000);
  EXPECT_EQ(peer_get(peer, blobs[0], g).status, 403);
  // And a grant never helps an anonymous caller.
  auto r = anon_->call_raw("GET", "/v1/blobs/" + blobs[0], "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

// Ownership survives a restart of the store (it is in images/index.db).
TEST_F(BlobAccessTest, OwnershipAndPublicMarksSurviveReopening) {
  const std::string data = "alice's private layer";
  ASSERT_EQ(put(*alice_, data), 201);
  ASSERT_TRUE(env_.images->set_public(env_.alice.account_id(), env_.image, true));
  auto reopened = ImageStore::open(env_.dir.file("images"), {}, &env_.clock);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_TRUE((*reopened)->is_owner(env_.alice.account_id(), oci_digest(data)));
  EXPECT_FALSE((*reopened)->is_owner(env_.bob.account_id(), oci_digest(data)));
  EXPECT_FALSE((*reopened)->is_public(oci_digest(data)));
  EXPECT_TRUE((*reopened)->is_public(env_.image));
}

}  // namespace
}  // namespace xop
