// `xop extend SESSION|PO AMOUNT`: adds AMOUNT credits to a purchase order's hold (credit control:
// a session whose PO runs low keeps running, a frozen one resumes once its server hears of it).
// The PO is named by its id or a unique prefix, or through the session it pays for (a session id
// or unique prefix, as `xop sessions` shows them). The corp pays the PO's arrears first.
#include <iostream>

#include "cli/client_context.h"
#include "cli/exit_codes.h"
#include "cli/id_match.h"
#include "cli/output.h"
#include "cli/session_directory.h"
#include "core/units.h"

namespace xop {

namespace {

struct ExtendArgs {
  std::string target;  // session or PO id (or a unique prefix)
  std::string amount;  // credits, "0.10"
};

// The open or closing purchase order `target` names: a PO id (prefix) among the user's POs at the
// corp, else the PO of the session it names (prefix) among the user's sessions.
Result<std::string> resolve_po(ClientContext& c, const std::string& target) {
  XOP_ASSIGN_OR_RETURN(auto pos, c.corp->purchase_orders(c.key.account_id(), std::nullopt));
  std::vector<std::string> po_ids;
  for (const auto& p : pos) po_ids.push_back(p.po_id);
  if (target.rfind("po", 0) == 0) {
    auto i = match_id(po_ids, target);
    if (i) return po_ids[*i];
    if (i.error().code != ErrorCode::kNotFound) return tl::make_unexpected(i.error());
  }
  SessionDirectory dir(c);
  XOP_ASSIGN_OR_RETURN(auto found, dir.list());
  std::vector<std::string> sessions;
  std::vector<std::string> session_pos;
  for (const auto& f : found) {
    sessions.push_back(f.where.session);
    session_pos.push_back(f.live ? f.live->po_id : f.where.po_id);
  }
  auto i = match_id(sessions, target);
  if (!i) {
    if (i.error().code == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kNotFound, "no session or purchase order of yours starts with " + target);
    }
    return tl::make_unexpected(i.error());
  }
  if (session_pos[*i].empty()) {
    return make_error(ErrorCode::kNotFound, "session " + sessions[*i] + ": its purchase order is not known");
  }
  return session_pos[*i];
}

int extend(const CliState& st, const ExtendArgs& a) {
  auto amount = parse_credits(a.amount);
  if (!amount || amount->micros() <= 0) {
    return usage_error("amount must be a positive number of credits, e.g. 0.10 or 2.5");
  }
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto po = resolve_po(*c, a.target);
  if (!po) return fail(po.error());
  auto r = c->corp->extend_po(*po, amount->micros());
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(to_json(*r));
    return kExitOk;
  }
  const auto& p = r->purchase_order;
  std::cout << "extended " << p.po_id << " by " << format_credits(*amount) << ": holds " << credits(p.remaining)
            << " of " << credits(p.max_amount);
  if (r->arrears_paid > 0) std::cout << " (" << credits(r->arrears_paid) << " paid arrears)";
  std::cout << "; balance " << credits(r->balance) << "\n";
  if (p.exhausted) {
    std::cout << "note: still exhausted: the arrears took the whole extension (" << credits(p.unpaid)
              << " still unpaid); extend it further to resume the session\n";
  } else if (p.low_funds) {
    std::cout << "note: still low on funds\n";
  }
  return kExitOk;
}

}  // namespace

void add_extend_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<ExtendArgs>();
  auto* e = app.add_subcommand("extend", "Add credits to a session's purchase order (a frozen session resumes)");
  e->add_option("target", a->target, "Session id or purchase order id (or a unique prefix of either)")->required();
  e->add_option("amount", a->amount, "Credits to add, e.g. 0.10")->required();
  e->callback([a, &st] { st.code = extend(st, *a); });
}

}  // namespace xop
