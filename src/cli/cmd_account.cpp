// `xop account create|show|fund|payout`: your identity, registration and balance; the admin's
// deposits and payouts.
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "client/corp_client.h"
#include "core/units.h"

namespace xop {

namespace {
struct AccountArgs {
  std::string name = "user";
  std::string kind = "user";
  std::string corp_url;
  std::string xis_url;
  std::string amount;
  std::string admin_key_file;
  std::string account;
  std::string memo;
};

int create(const CliState& st, const AccountArgs& a) {
  UserHome home(st.dirs);
  UserConfig cfg;
  if (auto c = home.load_config(); c) cfg = *c;
  if (!a.corp_url.empty()) cfg.corp_url = a.corp_url;
  if (!a.xis_url.empty()) cfg.xis_url = a.xis_url;
  // Flags are saved in config.toml; XOP_CORP_URL / XOP_XIS_URL apply to this run only.
  const UserConfig eff = with_env_overrides(cfg);
  if (eff.corp_url.empty()) {
    return usage_error("no corp URL: pass --corp URL (and --xis URL), set XOP_CORP_URL, or run `xop dev`");
  }
  auto key = home.load_key();
  if (!key && key.error().code != ErrorCode::kNotFound) return fail(key.error());
  const bool fresh = !key;
  if (fresh) {
    key = KeyPair::generate();
    if (auto s = home.save_key(*key); !s) return fail(s.error());
  }
  auto kind = parse_account_kind(a.kind, "--kind");
  if (!kind) return usage_error(kind.error().message);
  if (auto s = home.save_config(cfg); !s) return fail(s.error());
  auto corp = CorpClient::connect(eff.corp_url, *key);
  if (!corp) return fail(corp.error());
  auto r = corp->register_account(RegisterAccountRequest{*kind, a.name, std::nullopt});
  if (!r && r.error().code != ErrorCode::kConflict) return fail(r.error());
  if (st.json) {
    print_json(Json{{"account", key->account_id()}, {"public_key", key->public_key().base64()}, {"home", home.dir()}});
  } else {
    std::cout << (r ? "registered" : "already registered") << " account " << key->account_id() << "\n"
              << "key: " << home.key_path() << (fresh ? " (new)" : "") << "\n";
  }
  return 0;
}

int show(const CliState& st, const AccountArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  const std::string id = a.account.empty() ? c->key.account_id() : a.account;
  auto r = c->corp->account(id).map([](const AccountAnswer& v) { return to_json(v); });
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(*r);
    return 0;
  }
  const Json acc = r->value("account", Json::object());
  std::cout << "account   " << id << "\n"
            << "kind      " << acc.value("kind", "") << "\n"
            << "name      " << acc.value("name", "") << "\n"
            << "balance   " << credits(r->value("balance_micros", int64_t{0})) << "\n"
            << "held      " << credits(r->value("held_micros", int64_t{0})) << "\n";
  return 0;
}

int fund(const CliState& st, const AccountArgs& a) {
  auto amount = parse_credits(a.amount);
  if (!amount || amount->micros() <= 0)
    return usage_error("amount must be a positive number of credits, e.g. 10 or 2.5");
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  const std::string admin_file = a.admin_key_file.empty() ? c->home.dir() + "/dev-admin.json" : a.admin_key_file;
  auto admin = load_key_file(admin_file);
  if (!admin) return fail("funding needs the corp's admin key (" + admin_file + "): " + admin.error().message);
  auto corp = CorpClient::connect(c->config.corp_url, *admin);
  if (!corp) return fail(corp.error());
  const std::string to = a.account.empty() ? c->key.account_id() : a.account;
  auto r = corp->deposit(DepositRequest{to, amount->micros(), "faucet"}).map([](const DepositAnswer& v) {
    return to_json(v);
  });
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(*r);
  } else {
    std::cout << "deposited " << format_credits(*amount) << " to " << to << "; balance "
              << credits(r->value("balance_micros", int64_t{0})) << "\n";
  }
  return 0;
}
// Money leaves the platform: the admin key pays `amount` out of ACCOUNT's available balance.
int payout(const CliState& st, const AccountArgs& a) {
  auto amount = parse_credits(a.amount);
  if (!amount || amount->micros() <= 0)
    return usage_error("amount must be a positive number of credits, e.g. 10 or 2.5");
  if (a.memo.empty()) return usage_error("--memo is required: say why and for whom the money is paid out");
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  const std::string admin_file = a.admin_key_file.empty() ? c->home.dir() + "/dev-admin.json" : a.admin_key_file;
  auto admin = load_key_file(admin_file);
  if (!admin) return fail("paying out needs the corp's admin key (" + admin_file + "): " + admin.error().message);
  auto corp = CorpClient::connect(c->config.corp_url, *admin);
  if (!corp) return fail(corp.error());
  auto r = corp->payout(PayoutRequest{a.account, amount->micros(), a.memo}).map([](const PayoutAnswer& v) {
    return to_json(v);
  });
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(*r);
  } else {
    std::cout << "paid out " << format_credits(*amount) << " from " << a.account << "; balance "
              << credits(r->value("balance_micros", int64_t{0})) << "\n";
  }
  return 0;
}
}  // namespace

void add_account_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<AccountArgs>();
  auto* cmd = app.add_subcommand("account", "Your key pair, registration and balance");
  cmd->require_subcommand(1);
  auto* c = cmd->add_subcommand("create", "Create a key pair (if none) and register it with XenoCorp");
  c->add_option("--name", a->name, "A name for the account")->capture_default_str();
  c->add_option("--kind", a->kind, "user")->check(CLI::IsMember({"user"}))->capture_default_str();
  c->add_option("--corp", a->corp_url, "XenoCorp URL (saved in config.toml)");
  c->add_option("--xis", a->xis_url, "XIS URL (saved in config.toml)");
  c->callback([a, &st] { st.code = create(st, *a); });
  auto* s = cmd->add_subcommand("show", "Show balance and holds");
  s->add_option("--account", a->account, "Another account you may read (e.g. your server)");
  s->callback([a, &st] { st.code = show(st, *a); });
  auto* f = cmd->add_subcommand("fund", "Deposit credits (needs the corp's admin key; `xop dev` provides one)");
  f->add_option("amount", a->amount, "Credits, e.g. 10 or 2.50")->required();
  f->add_option("--account", a->account, "Account to fund (default: yours)");
  f->add_option("--admin-key-file", a->admin_key_file,
                "Admin key file (default: dev-admin.json in the profile's config directory)");
  f->callback([a, &st] { st.code = fund(st, *a); });
  auto* p = cmd->add_subcommand("payout", "Pay credits out of an account's balance (needs the corp's admin key)");
  p->add_option("account", a->account, "The account paid out from")->required();
  p->add_option("amount", a->amount, "Credits, e.g. 10 or 2.50")->required();
  p->add_option("--memo", a->memo, "Why and for whom (required; kept in the ledger)")->required();
  p->add_option("--admin-key-file", a->admin_key_file,
                "Admin key file (default: dev-admin.json in the profile's config directory)");
  p->callback([a, &st] { st.code = payout(st, *a); });
}

}  // namespace xop
