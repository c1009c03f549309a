// A blob grant: a user's signed permission for one peer server to download some of the user's
// image blobs from another server until an expiry (a peer preparing a session of that user
// fetches the image from where it already is). SignedDoc type "blob_grant", signed by the user;
// the peer sends it base64-encoded in the X-Xop-Grant header of a signed GET /v1/blobs/{digest}.
//
// Body: {"user": account id of the signer, "server": account id of the peer,
//        "digests": ["sha256:…", …] (1..kMaxGrantDigests), "expires_at": ms since the epoch}
#pragma once

#include <string>
#include <vector>

#include "core/schema.h"
#include "core/time.h"
#include "crypto/signed_doc.h"

namespace xop {

inline constexpr const char* kBlobGrantType = "blob_grant";
inline constexpr const char* kHeaderGrant = "x-xop-grant";
inline constexpr size_t kMaxGrantDigests = 64;

struct BlobGrant {
  std::string user;    // who grants (must be the signer)
  std::string server;  // the peer allowed to download
  std::vector<std::string> digests;
  TimeMs expires_at = 0;
};

// The wire form, declared once (core/schema.h; docs/formats.md).
const Schema<BlobGrant>& blob_grant_schema();
Json to_json(const BlobGrant& g);
Result<BlobGrant> blob_grant_from_json(const Json& j);

// Signs a grant with the user's key (the user field is set from the key).
Result<SignedDoc> sign_blob_grant(BlobGrant g, const KeyPair& user);
// The header value that carries a signed grant.
std::string blob_grant_header(const SignedDoc& grant);

// Checks a grant presented in a header by `caller` (an authenticated account id) for `digest` at
// `now`: signed by the user it names, issued to `caller`, naming `digest`, not expired. Returns
// the granting user; kPermissionDenied (or kUnauthenticated for a bad signature) otherwise.
Result<std::string> check_blob_grant(const std::string& header_value, const std::string& caller,
                                     const std::string& digest, TimeMs now);

}  // namespace xop
