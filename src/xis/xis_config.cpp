#include "xis/xis_config.h"

#include "core/toml_reader.h"

namespace xop {

ConfigTable xis_config_table(XisConfig* c) {
  ConfigTable t("xis");
  t.add_string("listen", &c->listen, "host:port to listen on (port 0: any free port)");
  t.add_string("corp_url", &c->corp_url, "XenoCorp: only servers registered there may advertise");
  t.add_bool("open", &c->open, "Without corp_url: let anyone with a key advertise (isolated tests only)");
  t.add_string("port_file", &c->port_file, "Write the bound URL to this file once listening");
  t.add_string("nats_url", &c->nats.url,
               "Share adverts with other XIS instances through this NATS server (nats://host:port, JetStream on)");
  t.add_string("nats_bucket", &c->nats.bucket, "The NATS key-value bucket the instances share");
  t.add_string("nats_token", &c->nats.token, "The NATS server's auth token, when it requires one");
  auto& o = c->options;
  t.add_string("instance_id", &o.instance_id,
               "This XIS's identity, the audience signed requests name (default: random per run)");
  t.add_int("max_ttl_ms", ConfigType::kDuration, &o.max_ttl_ms, 100, 3'600'000,
            "Longest time an advert is kept without refresh");
  t.add_int("max_adverts", ConfigType::kInteger, &o.max_adverts, 1, 1'000'000, "Most adverts held");
  t.add_int("max_per_owner", ConfigType::kInteger, &o.max_per_owner, 1, 1'000'000,
            "Most adverts held per owner account");
  return t;
}

Result<XisConfig> xis_config_from_toml(const toml::table& t, const ConfigFlags& flags) {
  XisConfig c;
  ConfigTable table = xis_config_table(&c);
  XOP_RETURN_IF_ERROR(table.apply_toml(t));
  XOP_RETURN_IF_ERROR(table.apply_flags(flags));
  if (auto l = parse_listen_address(c.listen); !l) return invalid("xis.listen: " + l.error().message);
  // Only servers registered with the corp may advertise: a corp URL is required unless `open`
  // says explicitly that anyone with a key may (isolated tests only).
  if (c.corp_url.empty() && !c.open) {
    return invalid("xop xis needs --corp-url (only registered servers may advertise), or --open to let anyone");
  }
  if (!c.nats.url.empty()) {
    c.nats.max_age_ms = c.options.max_ttl_ms;
    if (auto s = validate_nats_bus_options(c.nats); !s) return invalid("xis: " + s.error().message);
  }
  return c;
}

Result<XisConfig> load_xis_config(const std::string& path, const ConfigFlags& flags) {
  toml::table t;
  if (!path.empty()) {
    XOP_ASSIGN_OR_RETURN(t, load_toml_file(path));
  }
  return xis_config_from_toml(t, flags);
}

}  // namespace xop
