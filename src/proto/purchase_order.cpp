#include "proto/purchase_order.h"

#include "proto/doc_fields.h"

namespace xop {

bool is_po_id(std::string_view id) {
  if (id.size() != 34 || id.substr(0, 2) != "po") return false;
  for (char c : id.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const Schema<PurchaseOrder>& purchase_order_schema() {
  static const auto s =
      Schema<PurchaseOrder>("purchase_order")
          .str("po_id", &PurchaseOrder::po_id, 64)
          .str("user", &PurchaseOrder::user, 64)
          .str("server", &PurchaseOrder::server, 64)
          .object_with<SignedDoc>("price_sheet", &PurchaseOrder::price_sheet, signed_doc_json,
                                  signed_doc_of(kPriceSheetType))
          .money("max_amount_micros", &PurchaseOrder::max_amount, 1)
          .i64("issued_at", &PurchaseOrder::issued_at, 0)
          .i64("expires_at", &PurchaseOrder::expires_at, 0)
          .check([](const PurchaseOrder& po) { return is_po_id(po.po_id) ? "" : ".po_id: malformed"; })
          .check([](const PurchaseOrder& po) {
            return is_account_id(po.user) && is_account_id(po.server) ? "" : ": malformed account id";
          })
          .check([](const PurchaseOrder& po) {
            return po.expires_at > po.issued_at ? "" : ": expires before it is issued";
          })
          .verify([](PurchaseOrder& po) -> Status {
            XOP_ASSIGN_OR_RETURN(auto sheet, verify_price_sheet(po.price_sheet));
            if (sheet.server != po.server) return invalid("purchase_order: price sheet belongs to another server");
            return {};
          });
  return s;
}

Json to_json(const PurchaseOrder& po) { return purchase_order_schema().encode(po); }
Result<PurchaseOrder> purchase_order_from_json(const Json& j) { return purchase_order_schema().decode(j); }

Result<PurchaseOrder> verify_purchase_order(const SignedDoc& doc, const PublicKey& corp_key) {
  if (doc.type != kPurchaseOrderType) return invalid("not a purchase order");
  if (!(doc.signer == corp_key))
    return make_error(ErrorCode::kUnauthenticated, "purchase order not signed by the corp");
  XOP_RETURN_IF_ERROR(doc.verify());
  return purchase_order_from_json(doc.body);
}

}  // namespace xop
