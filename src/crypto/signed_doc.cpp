#include "crypto/signed_doc.h"

#include "core/encoding.h"
#include "crypto/canonical.h"
#include "crypto/digest.h"
#include "crypto/verified_signatures.h"

namespace xop {

Result<std::string> signed_doc_message(const std::string& type, const Json& body) {
  XOP_ASSIGN_OR_RETURN(auto canon, canonical_json(body));
  return "xop-doc-v1\n" + type + "\n" + canon;
}

Result<SignedDoc> SignedDoc::sign(std::string type, Json body, const KeyPair& key) {
  XOP_ASSIGN_OR_RETURN(auto msg, signed_doc_message(type, body));
  SignedDoc d;
  d.type = std::move(type);
  d.body = std::move(body);
  d.signer = key.public_key();
  d.signature = key.sign(msg);
  return d;
}

Status SignedDoc::verify() const {
  XOP_ASSIGN_OR_RETURN(auto msg, signed_doc_message(type, body));
  if (!VerifiedSignatures::documents().verify(signer, msg, signature)) {
    return make_error(ErrorCode::kUnauthenticated, type + ": signature does not verify");
  }
  return {};
}

Result<SignedDoc> SignedDoc::from_json(const Json& j, const std::string& expected_type) {
  JsonReader r(j, expected_type);
  SignedDoc d;
  d.type = r.str("type", 64);
  d.body = r.object("body");
  const auto signer = r.str("signer", 64);
  const auto sig = r.str("signature", 128);
  XOP_RETURN_IF_ERROR(r.finish());
  if (d.type != expected_type) return invalid("expected a signed " + expected_type + ", got " + d.type);
  auto pk = PublicKey::from_base64(signer);
  if (!pk) return invalid(expected_type + ".signer: " + pk.error().message);
  d.signer = *pk;
  auto raw = base64_decode(sig);
  if (!raw || raw->size() != KeyPair::kSignatureSize) return invalid(expected_type + ".signature: malformed");
  d.signature = *raw;
  XOP_RETURN_IF_ERROR(d.verify());
  return d;
}

Json SignedDoc::to_json() const {
  return Json{{"type", type}, {"body", body}, {"signer", signer.base64()}, {"signature", base64_encode(signature)}};
}

std::string SignedDoc::digest() const { return sha256_hex(signature); }

}  // namespace xop
