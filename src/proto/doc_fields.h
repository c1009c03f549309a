// Schema field codecs shared by the proto documents (core/schema.h): an embedded signed
// document of one type, checked for form and signature when decoded (its signer and contents are
// the caller's to verify).
#pragma once

#include <functional>
#include <string>

#include "core/schema.h"
#include "crypto/signed_doc.h"

namespace xop {

using SignedDocDecoder = std::function<Result<SignedDoc>(const Json&, const std::string& where)>;

inline Json signed_doc_json(const SignedDoc& d) { return d.to_json(); }

// Decodes a SignedDoc of `type`; its errors are SignedDoc::from_json's, as they are.
inline SignedDocDecoder signed_doc_of(const char* type) {
  return [type](const Json& j, const std::string&) { return SignedDoc::from_json(j, type); };
}

// Whether a prefixed decoder keeps an error's code (a bad signature stays kUnauthenticated) or
// reports every problem as kInvalidArgument.
enum class SignedDocErrors { kKeepCode, kAsInvalid };

// As signed_doc_of(), but errors are prefixed with the field's path ("usage.batch: ...").
inline SignedDocDecoder signed_doc_at(const char* type, SignedDocErrors codes) {
  return [type, codes](const Json& j, const std::string& where) -> Result<SignedDoc> {
    auto d = SignedDoc::from_json(j, type);
    if (!d) {
      const ErrorCode code = codes == SignedDocErrors::kKeepCode ? d.error().code : ErrorCode::kInvalidArgument;
      return make_error(code, where + ": " + d.error().message);
    }
    return d;
  };
}

}  // namespace xop
