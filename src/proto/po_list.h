// GET /v1/accounts/{id}/purchase-orders (docs/api/corp.yaml): {"purchase_orders": [<po status>...]},
// each item the answer of GET /v1/purchase-orders/{id} (proto/corp_answers.h PoStatusView). The
// corp encodes with po_list_answer_json(); clients decode strictly (an item's error names its index,
// e.g. "po_list.purchase_orders[2]: po_status.state: ...", and its state must be a PoStatus name).
#pragma once

#include <vector>

#include "proto/corp_answers.h"

namespace xop {

// At most this many purchase orders in one answer.
inline constexpr size_t kMaxPoListItems = size_t{1} << 20;

Json po_list_answer_json(const std::vector<PoStatusView>& pos);
Result<std::vector<PoStatusView>> decode_po_list_answer(const Json& j);

}  // namespace xop
