// Every ErrorCode with its stable wire name and HTTP status, in declaration order: what
// docs/api/errors.md documents and the OpenAPI `Error` schemas enumerate (a test compares them).
#pragma once

#include <vector>

#include "core/result.h"

namespace xop {

struct ErrorCodeInfo {
  ErrorCode code;
  const char* name;  // e.g. "invalid_argument"
  int http_status;
};

// All codes, each once.
const std::vector<ErrorCodeInfo>& all_error_codes();

}  // namespace xop
