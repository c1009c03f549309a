// The canonical encoding that every signature covers: JSON with object keys in byte order, no
// insignificant whitespace, ASCII-only output (\u escapes), and no floating-point numbers (a
// signed document holds integers, strings, booleans, arrays and objects only). Two documents
// with the same content always encode to the same bytes.
#pragma once

#include <string>

#include "core/json_reader.h"

namespace xop {

Result<std::string> canonical_json(const Json& j);

}  // namespace xop
