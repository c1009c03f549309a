// A signed document: a typed JSON body, the signer's public key, and an Ed25519 signature over
// "xop-doc-v1\n" + type + "\n" + canonical_json(body). Price sheets, adverts, purchase orders
// and usage-record batches travel as signed documents and can be checked offline.
//
// Wire form: {"type": "...", "body": {...}, "signer": "<base64 key>", "signature": "<base64>"}
#pragma once

#include <string>

#include "core/json_reader.h"
#include "crypto/keys.h"

namespace xop {

struct SignedDoc {
  std::string type;
  Json body;
  PublicKey signer;
  std::string signature;  // raw 64 bytes

  static Result<SignedDoc> sign(std::string type, Json body, const KeyPair& key);
  // Parses the wire form and checks that the type is `expected_type` and that the signature
  // is valid for the embedded signer. Who the signer must be is the caller's decision.
  static Result<SignedDoc> from_json(const Json& j, const std::string& expected_type);

  // Checks the signature; a document that verified before is recognised without a new Ed25519
  // check (crypto/verified_signatures.h).
  [[nodiscard]] Status verify() const;
  [[nodiscard]] Json to_json() const;
  // Digest that identifies this exact signed document.
  [[nodiscard]] std::string digest() const;
};

// The bytes a document signature covers.
Result<std::string> signed_doc_message(const std::string& type, const Json& body);

}  // namespace xop
