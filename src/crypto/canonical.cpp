#include "crypto/canonical.h"

namespace xop {
namespace {
Status check(const Json& j, int depth) {
  if (depth > 32) return invalid("document nests too deeply");
  if (j.is_number_float()) return invalid("signed documents may not contain floating-point numbers");
  if (j.is_object() || j.is_array()) {
    for (const auto& v : j) XOP_RETURN_IF_ERROR(check(v, depth + 1));
  }
  return {};
}
}  // namespace

Result<std::string> canonical_json(const Json& j) {
  XOP_RETURN_IF_ERROR(check(j, 0));
  try {
    // nlohmann::json objects are std::map-backed: keys are emitted in byte order.
    return j.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::strict);
  } catch (const Json::exception&) {
    return invalid("document contains invalid UTF-8");
  }
}

}  // namespace xop
