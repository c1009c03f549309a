#include "proto/po_status.h"

#include <string>

namespace xop {

const char* to_string(PoStatus s) {
  switch (s) {
    case PoStatus::kOpen:
      return "open";
    case PoStatus::kClosing:
      return "closing";
    case PoStatus::kClosed:
      return "closed";
  }
  return "closed";
}

Result<PoStatus> parse_po_status(std::string_view s, std::string_view what) {
  for (PoStatus p : {PoStatus::kOpen, PoStatus::kClosing, PoStatus::kClosed}) {
    if (s == to_string(p)) return p;
  }
  return invalid(std::string(what) + ": unknown purchase order state");
}

}  // namespace xop
