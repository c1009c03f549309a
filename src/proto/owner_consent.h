// An owner's consent to be named by a server: a SignedDoc of type "owner_consent", signed by the
// owner's key, naming the owner's account and the server's account. XenoCorp registers a server
// account naming an owner only with this document, so nobody can attach servers to an account
// that did not ask for them (they would count against that owner's advert quota at XIS and
// appear among its servers). `xop server consent SERVER_ID` writes one (docs/operating.md).
#pragma once

#include <string>

#include "core/json_reader.h"
#include "core/schema.h"
#include "core/time.h"
#include "crypto/keys.h"
#include "crypto/signed_doc.h"

namespace xop {

inline constexpr const char* kOwnerConsentType = "owner_consent";

struct OwnerConsent {
  std::string owner;   // the consenting user's account id (the signer's)
  std::string server;  // the server account it may be named by
  TimeMs issued_at = 0;

  friend bool operator==(const OwnerConsent&, const OwnerConsent&) = default;
};

const Schema<OwnerConsent>& owner_consent_schema();
Json to_json(const OwnerConsent& c);
Result<OwnerConsent> owner_consent_from_json(const Json& j);

// Signs a consent for `server_id` with the owner's key.
Result<SignedDoc> sign_owner_consent(const KeyPair& owner, const std::string& server_id, TimeMs now);

// Checks that `doc` is a validly signed consent by the holder of `owner_key`, naming that key's
// account as owner and `server_id` as the server. kPermissionDenied (with what is wrong) otherwise;
// a bad signature is kUnauthenticated.
Result<OwnerConsent> verify_owner_consent(const SignedDoc& doc, const PublicKey& owner_key,
                                          const std::string& server_id);

}  // namespace xop
