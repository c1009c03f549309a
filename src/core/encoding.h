// Byte-string encodings used on the wire: lowercase hex and standard base64 (with padding).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view hex);

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view b64);

}  // namespace xop
