#include "proto/purchase_order.h"

namespace xop {

bool is_po_id(std::string_view id) {
  if (id.size() != 34 || id.substr(0, 2) != "po") return false;
  for (char c : id.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Json to_json(const PurchaseOrder& po) {
  return Json{{"po_id", po.po_id},
              {"user", po.user},
              {"server", po.server},
              {"price_sheet", po.price_sheet.to_json()},
              {"max_amount", po.max_amount.micros()},
              {"issued_at", po.issued_at},
              {"expires_at", po.expires_at}};
}

Result<PurchaseOrder> purchase_order_from_json(const Json& j) {
  JsonReader r(j, "purchase_order");
  PurchaseOrder po;
  po.po_id = r.str("po_id", 64);
  po.user = r.str("user", 64);
  po.server = r.str("server", 64);
  const Json& ps = r.object("price_sheet");
  po.max_amount = Money::micros(r.i64("max_amount", 1));
  po.issued_at = r.i64("issued_at", 0);
  po.expires_at = r.i64("expires_at", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_po_id(po.po_id)) return invalid("purchase_order.po_id: malformed");
  if (!is_account_id(po.user) || !is_account_id(po.server)) return invalid("purchase_order: malformed account id");
  if (po.expires_at <= po.issued_at) return invalid("purchase_order: expires before it is issued");
  XOP_ASSIGN_OR_RETURN(po.price_sheet, SignedDoc::from_json(ps, kPriceSheetType));
  XOP_ASSIGN_OR_RETURN(auto sheet, verify_price_sheet(po.price_sheet));
  if (sheet.server != po.server) return invalid("purchase_order: price sheet belongs to another server");
  return po;
}

Result<PurchaseOrder> verify_purchase_order(const SignedDoc& doc, const PublicKey& corp_key) {
  if (doc.type != kPurchaseOrderType) return invalid("not a purchase order");
  if (!(doc.signer == corp_key))
    return make_error(ErrorCode::kUnauthenticated, "purchase order not signed by the corp");
  XOP_RETURN_IF_ERROR(doc.verify());
  return purchase_order_from_json(doc.body);
}

}  // namespace xop
