#include "corp/corp_config.h"

#include "core/toml_reader.h"
#include "crypto/keys.h"

namespace xop {

ConfigTable corp_config_table(CorpConfig* c) {
  constexpr int64_t kHour = 3'600'000;
  ConfigTable t("corp");
  t.add_string("listen", &c->listen, "host:port to listen on (port 0: any free port)");
  t.add_string("data_dir", &c->data_dir, "Where the ledger database and the corp key live (required)");
  t.add_string("admin_public_key", &c->admin_public_key, "Base64 public key allowed to deposit funds").flag_aliases = {
      "--admin-key"};
  t.add_string("admin_key_file", &c->admin_key_file,
               "Key file whose public key may deposit funds (wins over admin_public_key)");
  t.add_string("port_file", &c->port_file, "Write the bound URL to this file once listening");
  auto& o = c->options;
  t.add_int("unused_po_grace_ms", ConfigType::kDuration, &o.unused_po_grace_ms, 0, 7 * 24 * kHour,
            "An unused purchase order's hold returns this long after it expired or was closed");
  t.add_int("unreported_po_backstop_ms", ConfigType::kDuration, &o.unreported_po_backstop_ms, 0, 30 * 24 * kHour,
            "A hold returns this long after expiry even if its server never checks in");
  t.add_int("usage_clock_skew_ms", ConfigType::kDuration, &o.usage_clock_skew_ms, 0, kHour,
            "How far a server's clock may differ from the corp's");
  t.add_int("ledger_check_interval_ms", ConfigType::kDuration, &o.ledger_check_interval_ms, 1, kHour,
            "Unsigned GET /v1/ledger/check answers from a check at most this old");
  t.add_int("low_funds_intervals", ConfigType::kInteger, &o.low_funds_intervals, 1, 1000,
            "A purchase order is low on funds when its hold covers fewer charging intervals than this");
  return t;
}

namespace {
Result<CorpConfig> finish(CorpConfig c) {
  if (c.data_dir.empty()) return invalid("corp.data_dir: required (--data-dir or data_dir in the config)");
  if (auto l = parse_listen_address(c.listen); !l) return invalid("corp.listen: " + l.error().message);
  if (c.options.unreported_po_backstop_ms < c.options.unused_po_grace_ms) {
    return invalid("corp.unreported_po_backstop_ms: must not be less than unused_po_grace_ms");
  }
  c.options.db_path = c.data_dir + "/corp.db";
  if (!c.admin_key_file.empty()) {
    auto k = load_key_file(c.admin_key_file);
    if (!k) return invalid("corp.admin_key_file: " + k.error().message);
    c.options.admin_key = k->public_key();
  } else if (!c.admin_public_key.empty()) {
    auto k = PublicKey::from_base64(c.admin_public_key);
    if (!k) return invalid("corp.admin_public_key: " + k.error().message);
    c.options.admin_key = *k;
  }
  return c;
}
}  // namespace

Result<CorpConfig> corp_config_from_toml(const toml::table& t, const ConfigFlags& flags) {
  CorpConfig c;
  ConfigTable table = corp_config_table(&c);
  XOP_RETURN_IF_ERROR(table.apply_toml(t));
  XOP_RETURN_IF_ERROR(table.apply_flags(flags));
  return finish(std::move(c));
}

Result<CorpConfig> load_corp_config(const std::string& path, const ConfigFlags& flags) {
  toml::table t;
  if (!path.empty()) {
    XOP_ASSIGN_OR_RETURN(t, load_toml_file(path));
  }
  return corp_config_from_toml(t, flags);
}

}  // namespace xop
