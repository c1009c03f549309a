// A purchase order (PO): XenoCorp's signed promise that it holds up to max_amount of the user's
// funds for one session on one server, charged at the bound price sheet. A server checks a PO
// offline with the corp's public key. SignedDoc type "purchase_order", signed by the corp.
#pragma once

#include "core/money.h"
#include "crypto/signed_doc.h"
#include "proto/price_sheet.h"

namespace xop {

inline constexpr const char* kPurchaseOrderType = "purchase_order";

struct PurchaseOrder {
  std::string po_id;      // "po" + 32 hex
  std::string user;       // account id of the paying user
  std::string server;     // account id of the server key
  SignedDoc price_sheet;  // signed by `server`
  Money max_amount;       // the hold
  TimeMs issued_at = 0;
  TimeMs expires_at = 0;  // no new session may start on it after this time
};

// The wire form, declared once (core/schema.h; docs/formats.md).
const Schema<PurchaseOrder>& purchase_order_schema();
Json to_json(const PurchaseOrder& po);
// Parses and checks internal consistency (including the price sheet's signature and signer).
Result<PurchaseOrder> purchase_order_from_json(const Json& j);

// Verifies a signed PO: signature by `corp_key`, well-formed body.
Result<PurchaseOrder> verify_purchase_order(const SignedDoc& doc, const PublicKey& corp_key);

bool is_po_id(std::string_view id);

}  // namespace xop
