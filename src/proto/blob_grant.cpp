#include "proto/blob_grant.h"

#include <algorithm>

#include "core/encoding.h"
#include "crypto/digest.h"
#include "crypto/keys.h"

namespace xop {

// Base64 of a grant's JSON: well inside the 16 KiB header limit at kMaxGrantDigests.
constexpr size_t kMaxGrantHeaderBytes = 12 * 1024;

const Schema<BlobGrant>& blob_grant_schema() {
  static const auto s =
      Schema<BlobGrant>("grant")
          .str("user", &BlobGrant::user, 128)
          .str("server", &BlobGrant::server, 128)
          .str_array("digests", &BlobGrant::digests, kMaxGrantDigests, 128)
          .i64("expires_at", &BlobGrant::expires_at, 0)
          .check([](const BlobGrant& g) { return is_account_id(g.user) ? "" : ".user: not an account id"; })
          .check([](const BlobGrant& g) { return is_account_id(g.server) ? "" : ".server: not an account id"; })
          .check([](const BlobGrant& g) { return g.digests.empty() ? ".digests: names no blob" : ""; })
          .check([](const BlobGrant& g) -> std::string {
            for (const auto& d : g.digests) {
              if (!is_oci_digest(d)) return ".digests: \"" + d + "\" is not a sha256 digest";
            }
            return "";
          });
  return s;
}

Json to_json(const BlobGrant& g) { return blob_grant_schema().encode(g); }
Result<BlobGrant> blob_grant_from_json(const Json& j) { return blob_grant_schema().decode(j); }

Result<SignedDoc> sign_blob_grant(BlobGrant g, const KeyPair& user) {
  g.user = user.account_id();
  XOP_ASSIGN_OR_RETURN(auto checked, blob_grant_from_json(to_json(g)));
  return SignedDoc::sign(kBlobGrantType, to_json(checked), user);
}

std::string blob_grant_header(const SignedDoc& grant) { return base64_encode(grant.to_json().dump()); }

Result<std::string> check_blob_grant(const std::string& header_value, const std::string& caller,
                                     const std::string& digest, TimeMs now) {
  const auto denied = [](const std::string& why) { return make_error(ErrorCode::kPermissionDenied, why); };
  if (header_value.size() > kMaxGrantHeaderBytes) return denied("blob grant too large");
  auto text = base64_decode(header_value);
  if (!text) return denied("blob grant is not base64");
  auto j = parse_json(*text, 8);
  if (!j) return denied("blob grant is not JSON");
  XOP_ASSIGN_OR_RETURN(auto doc, SignedDoc::from_json(*j, kBlobGrantType));
  XOP_ASSIGN_OR_RETURN(auto g, blob_grant_from_json(doc.body));
  if (doc.signer.account_id() != g.user) {
    return make_error(ErrorCode::kUnauthenticated, "blob grant is not signed by the user it names");
  }
  if (g.server != caller) return denied("blob grant is for another server");
  if (now >= g.expires_at) return denied("blob grant has expired");
  if (std::find(g.digests.begin(), g.digests.end(), digest) == g.digests.end()) {
    return denied("blob grant does not name " + digest);
  }
  return g.user;
}

}  // namespace xop
