#include "proto/po_list.h"

#include "proto/po_status.h"

namespace xop {

Json po_list_answer_json(const std::vector<PoStatusView>& pos) {
  Json arr = Json::array();
  for (const auto& p : pos) arr.push_back(to_json(p));
  return Json{{"purchase_orders", std::move(arr)}};
}

Result<std::vector<PoStatusView>> decode_po_list_answer(const Json& j) {
  JsonReader r(j, "po_list");
  const Json& arr = r.array("purchase_orders", kMaxPoListItems);
  XOP_RETURN_IF_ERROR(r.finish());
  std::vector<PoStatusView> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string where = "po_list.purchase_orders[" + std::to_string(i) + "]";
    auto p = decode_po_status(arr[i]);
    if (!p) return invalid(where + ": " + p.error().message);
    if (auto s = parse_po_status(p->state, where + ".state"); !s) return tl::make_unexpected(s.error());
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace xop
