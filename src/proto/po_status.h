// A purchase order's state, the one enum the corp stores and its API shows ("state" of
// GET /v1/purchase-orders/{id}, the ?state= filter of GET /v1/accounts/{id}/purchase-orders): open
// (its hold can be charged), closing (its user asked to close it: it is still charged, but
// exhausted, and the corp's expiry releases its hold) or closed (nothing held).
#pragma once

#include <string_view>

#include "core/result.h"

namespace xop {

enum class PoStatus { kOpen, kClosing, kClosed };
const char* to_string(PoStatus s);  // "open" | "closing" | "closed"
// Refuses any other name with kInvalidArgument "<what>: unknown purchase order state".
Result<PoStatus> parse_po_status(std::string_view s, std::string_view what);

}  // namespace xop
