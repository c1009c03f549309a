#include "proto/owner_consent.h"

namespace xop {

const Schema<OwnerConsent>& owner_consent_schema() {
  static const auto s = Schema<OwnerConsent>("owner_consent")
                            .str("owner", &OwnerConsent::owner, 64)
                            .str("server", &OwnerConsent::server, 64)
                            .i64("issued_at", &OwnerConsent::issued_at, 0)
                            .check([](const OwnerConsent& c) -> std::string {
                              if (!is_account_id(c.owner)) return ".owner: not an account id";
                              if (!is_account_id(c.server)) return ".server: not an account id";
                              if (c.owner == c.server) return ": a server cannot own itself";
                              return "";
                            });
  return s;
}

Json to_json(const OwnerConsent& c) { return owner_consent_schema().encode(c); }
Result<OwnerConsent> owner_consent_from_json(const Json& j) { return owner_consent_schema().decode(j); }

Result<SignedDoc> sign_owner_consent(const KeyPair& owner, const std::string& server_id, TimeMs now) {
  OwnerConsent c{owner.account_id(), server_id, now};
  XOP_ASSIGN_OR_RETURN(auto body, owner_consent_schema().decode(to_json(c)));  // same checks as a reader's
  return SignedDoc::sign(kOwnerConsentType, to_json(body), owner);
}

Result<OwnerConsent> verify_owner_consent(const SignedDoc& doc, const PublicKey& owner_key,
                                          const std::string& server_id) {
  if (doc.type != kOwnerConsentType) return make_error(ErrorCode::kPermissionDenied, "not an owner consent");
  XOP_RETURN_IF_ERROR(doc.verify());
  XOP_ASSIGN_OR_RETURN(auto c, owner_consent_from_json(doc.body));
  if (doc.signer.base64() != owner_key.base64()) {
    return make_error(ErrorCode::kPermissionDenied, "the owner consent is not signed by the owner's key");
  }
  if (c.owner != owner_key.account_id()) {
    return make_error(ErrorCode::kPermissionDenied, "the owner consent names another owner (" + c.owner + ")");
  }
  if (c.server != server_id) {
    return make_error(ErrorCode::kPermissionDenied,
                      "the owner consent is for another server (" + c.server + "), not " + server_id);
  }
  return c;
}

}  // namespace xop
