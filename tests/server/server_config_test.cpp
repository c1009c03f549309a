#include "server/server_config.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "server/advertiser.h"
#include "support/test_support.h"

namespace xop {
namespace {

const std::string kOwner = KeyPair::generate().account_id();

std::string minimal() {
  return "data_dir = \"/var/lib/xop\"\ncorp_url = \"http://127.0.0.1:7000\"\nowner = \"" + kOwner + "\"\n";
}

Result<ServerConfig> parse(const std::string& text) {
  XOP_ASSIGN_OR_RETURN(auto t, parse_toml(text, "server.toml"));
  return server_config_from_toml(t);
}

void expect_invalid(const std::string& text, const std::string& words) {
  auto c = parse(text);
  ASSERT_FALSE(c) << "accepted:\n" << text;
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
}

TEST(ServerConfigTest, MinimalConfigGetsDefaults) {
  auto c = parse(minimal());
  ASSERT_TRUE(c) << c.error().message;
  const ServerConfig d;
  EXPECT_EQ(c->data_dir, "/var/lib/xop");
  EXPECT_EQ(c->corp_url, "http://127.0.0.1:7000");
  EXPECT_EQ(c->owner, kOwner);
  EXPECT_EQ(c->key_file, "/var/lib/xop/server.key");  // derived from data_dir
  EXPECT_EQ(c->name, d.name);
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 7402);  // the documented default port
  EXPECT_EQ(c->runtime, "auto");
  EXPECT_EQ(c->capacity, d.capacity);
  EXPECT_EQ(c->rates, d.rates);
  EXPECT_EQ(c->sample_interval_ms, 1000);
  EXPECT_EQ(c->charging_interval_ms, 10'000);
  EXPECT_EQ(c->http_threads, 4);
  EXPECT_EQ(c->xis_url, "");
  EXPECT_EQ(c->location.lat_e6, 0);
}

TEST(ServerConfigTest, EveryKeyIsRead) {
  const std::string text = minimal() + R"(
name = "paris-1"
listen = "0.0.0.0:8443"
advertise_url = "http://paris.example:8443"
key_file = "/etc/xop/key.json"
corp_public_key = "AAAA"
xis_url = "http://127.0.0.1:7001"
city = "Paris"
latitude = 48.8566
longitude = 2.3522
runtime = "crun"
max_pids_per_session = 99
sample_interval_ms = 500
charging_interval_ms = 5000
advert_interval_ms = 2000
advert_ttl_ms = 6000
stop_grace_ms = 0
session_disk_default_bytes = 16777216
session_log_max_bytes = 65536
session_log_rate_bytes_per_s = 8192
session_log_retention_ms = 0
http_threads = 8
[capacity]
cpu_millis = 8000
memory_bytes = 17179869184
disk_bytes = 0
net_bps = 1000000000
[prices]
cpu_reserve_per_core_hour = 1
memory_reserve_per_gib_hour = 2
disk_reserve_per_gib_hour = 3
net_reserve_per_mbps_hour = 4
cpu_use_per_core_hour = 5
memory_use_per_gib_hour = 6
disk_io_per_gib = 7
net_io_per_gib = 8
[network]
enabled = false
bridge = "xopbr1"
pool = "10.99.0.0/24"
port_range = "30000-30009"
)";
  auto c = parse(text);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "paris-1");
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 8443);
  EXPECT_EQ(c->advertise_url, "http://paris.example:8443");
  EXPECT_EQ(c->key_file, "/etc/xop/key.json");
  EXPECT_EQ(c->corp_public_key, "AAAA");
  EXPECT_EQ(c->xis_url, "http://127.0.0.1:7001");
  EXPECT_EQ(c->city, "Paris");
  EXPECT_EQ(c->location.lat_e6, 48'856'600);
  EXPECT_EQ(c->location.lon_e6, 2'352'200);
  EXPECT_EQ(c->runtime, "crun");
  EXPECT_EQ(c->max_pids_per_session, 99);
  EXPECT_EQ(c->sample_interval_ms, 500);
  EXPECT_EQ(c->charging_interval_ms, 5000);
  EXPECT_EQ(c->advert_interval_ms, 2000);
  EXPECT_EQ(c->advert_ttl_ms, 6000);
  EXPECT_EQ(c->stop_grace_ms, 0);
  EXPECT_EQ(c->http_threads, 8);
  EXPECT_EQ(c->session_disk_default_bytes, 16LL << 20);
  EXPECT_EQ(c->session_log_max_bytes, 65536);
  EXPECT_EQ(c->session_log_rate_bytes_per_s, 8192);
  EXPECT_EQ(c->session_log_retention_ms, 0);
  EXPECT_EQ(c->capacity, (Resources{8000, 16LL << 30, 0, 1'000'000'000}));
  EXPECT_EQ(c->rates, (Rates{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_FALSE(c->network_enabled);
  EXPECT_EQ(c->network_bridge, "xopbr1");
  EXPECT_EQ(c->network_pool, "10.99.0.0/24");
  EXPECT_EQ(c->network_port_range, "30000-30009");
}

TEST(ServerConfigTest, NetworkDefaultsAndBadValues) {
  auto c = parse(minimal());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->network_enabled);
  EXPECT_EQ(c->network_bridge, "xop0");
  EXPECT_EQ(c->network_pool, "10.88.0.0/16");
  EXPECT_EQ(c->network_port_range, "20000-29999");
  for (const std::string bad :
       {"pool = \"10.88.0.1/16\"", "pool = \"10.88.0.0/31\"", "port_range = \"0-10\"", "port_range = \"30000-20000\"",
        "bridge = \"\"", "bridge = \"a-very-long-bridge\"", "bridge = \"br;rm\"", "bridge = \"br 0\""}) {
    auto r = parse(minimal() + "\n[network]\n" + bad + "\n");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("server.network."), std::string::npos) << r.error().message;
  }
}

TEST(ServerConfigTest, SessionDiskAndLogLimitsHaveBounds) {
  auto c = parse(minimal());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->session_disk_default_bytes, 32LL << 20);
  EXPECT_EQ(c->session_log_max_bytes, 8LL << 20);
  EXPECT_EQ(c->session_log_rate_bytes_per_s, 1LL << 20);
  EXPECT_EQ(c->session_log_retention_ms, 3'600'000);
  expect_invalid(minimal() + "session_disk_default_bytes = 1048576\n", "session_disk_default_bytes");
  expect_invalid(minimal() + "session_log_max_bytes = 100\n", "session_log_max_bytes");
  expect_invalid(minimal() + "session_log_rate_bytes_per_s = 0\n", "session_log_rate_bytes_per_s");
  expect_invalid(minimal() + "session_log_retention_ms = -1\n", "session_log_retention_ms");
}

TEST(ServerConfigTest, FreezeGraceIsADurationOfAtMostADay) {
  auto c = parse(minimal());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->freeze_grace_ms, 300'000) << "5 minutes by default";
  c = parse(minimal() + "freeze_grace_ms = \"2m\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->freeze_grace_ms, 120'000);
  c = parse(minimal() + "freeze_grace_ms = 0\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->freeze_grace_ms, 0) << "0: stop at once";
  c = parse(minimal() + "freeze_grace_ms = \"1d\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->freeze_grace_ms, 86'400'000);
  expect_invalid(minimal() + "freeze_grace_ms = 86400001\n", "freeze_grace_ms");
  expect_invalid(minimal() + "freeze_grace_ms = -1\n", "freeze_grace_ms");
  expect_invalid(minimal() + "freeze_grace_ms = \"soon\"\n", "freeze_grace_ms");
}

TEST(ServerConfigTest, PartialTablesKeepOtherDefaults) {
  auto c = parse(minimal() + "[capacity]\ncpu_millis = 500\n[prices]\nnet_io_per_gib = 9\n");
  ASSERT_TRUE(c) << c.error().message;
  const ServerConfig d;
  EXPECT_EQ(c->capacity.cpu_millis, 500);
  EXPECT_EQ(c->capacity.memory_bytes, d.capacity.memory_bytes);
  EXPECT_EQ(c->rates.net_io_per_gib, 9);
  EXPECT_EQ(c->rates.cpu_use_per_core_hour, d.rates.cpu_use_per_core_hour);
}

TEST(ServerConfigTest, UnknownKeysAreErrorsNamingThePath) {
  expect_invalid(minimal() + "colour = \"red\"\n", "colour");
  expect_invalid(minimal() + "[capacity]\ngpus = 1\n", "capacity.gpus");
  expect_invalid(minimal() + "[prices]\ncpu_per_hour = 1\n", "prices.cpu_per_hour");
  expect_invalid(minimal() + "[extra]\nx = 1\n", "extra");
}

TEST(ServerConfigTest, WrongTypesAreErrors) {
  expect_invalid(minimal() + "name = 5\n", "name");
  expect_invalid(minimal() + "http_threads = \"4\"\n", "http_threads");
  expect_invalid(minimal() + "latitude = \"north\"\n", "latitude");
  expect_invalid(minimal() + "capacity = 5\n", "capacity");
  expect_invalid(minimal() + "[capacity]\ncpu_millis = 1.5\n", "cpu_millis");
  expect_invalid(minimal() + "[prices]\ndisk_io_per_gib = true\n", "disk_io_per_gib");
  expect_invalid(minimal() + "listen = 8080\n", "listen");
}

TEST(ServerConfigTest, OutOfRangeValuesAreErrors) {
  expect_invalid(minimal() + "latitude = 90.5\n", "latitude");
  expect_invalid(minimal() + "longitude = -180.01\n", "longitude");
  expect_invalid(minimal() + "latitude = nan\n", "latitude");
  expect_invalid(minimal() + "longitude = inf\n", "longitude");
  expect_invalid(minimal() + "http_threads = 0\n", "http_threads");
  expect_invalid(minimal() + "http_threads = 100000\n", "http_threads");
  expect_invalid(minimal() + "sample_interval_ms = 1\n", "sample_interval_ms");
  expect_invalid(minimal() + "stop_grace_ms = -1\n", "stop_grace_ms");
  expect_invalid(minimal() + "max_pids_per_session = 0\n", "max_pids_per_session");
  expect_invalid(minimal() + "[capacity]\ncpu_millis = 0\n", "cpu_millis");
  expect_invalid(minimal() + "[capacity]\nmemory_bytes = 1000\n", "memory_bytes");
  expect_invalid(minimal() + "[capacity]\nnet_bps = -5\n", "net_bps");
  expect_invalid(minimal() + "[capacity]\ndisk_bytes = 9223372036854775807\n", "disk_bytes");
  expect_invalid(minimal() + "[prices]\ncpu_use_per_core_hour = -1\n", "cpu_use_per_core_hour");
  expect_invalid(minimal() + "[prices]\ncpu_use_per_core_hour = 1000000000001\n", "cpu_use_per_core_hour");
  // Sampling must be at least as frequent as charging.
  expect_invalid(minimal() + "sample_interval_ms = 20000\ncharging_interval_ms = 10000\n", "sample_interval_ms");
}

TEST(ServerConfigTest, RequiredKeysAndRuntime) {
  expect_invalid("corp_url = \"http://x:1\"\nowner = \"" + kOwner + "\"\n", "data_dir");
  expect_invalid("data_dir = \"/d\"\nowner = \"" + kOwner + "\"\n", "corp_url");
  expect_invalid("data_dir = \"/d\"\ncorp_url = \"http://x:1\"\n", "owner");
  expect_invalid("data_dir = \"/d\"\ncorp_url = \"http://x:1\"\nowner = \"alice\"\n", "owner");
  expect_invalid(minimal() + "runtime = \"docker\"\n", "runtime");
  auto mock = parse(minimal() + "runtime = \"mock\"\n");
  ASSERT_TRUE(mock);
  EXPECT_EQ(mock->runtime, "mock");
  auto autod = parse(minimal() + "runtime = \"auto\"\n");
  ASSERT_TRUE(autod);
  EXPECT_EQ(autod->runtime, "auto");
  expect_invalid(minimal() + "runtime = \"Auto\"\n", "runtime");
}

TEST(ServerConfigTest, ListenParsing) {
  auto v6 = parse(minimal() + "listen = \"[::1]:9000\"\n");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->listen_host, "[::1]");
  EXPECT_EQ(v6->listen_port, 9000);
  auto zero = parse(minimal() + "listen = \"localhost:0\"\n");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->listen_port, 0);
  auto max = parse(minimal() + "listen = \"127.0.0.1:65535\"\n");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->listen_port, 65535);

  expect_invalid(minimal() + "listen = \"127.0.0.1\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:65536\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:-1\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:http\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:99999999999999999999\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:80abc\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1: 80\"\n", "listen");
  expect_invalid(minimal() + "listen = \"127.0.0.1:+80\"\n", "listen");
  expect_invalid(minimal() + "listen = \":8080\"\n", "listen");
}

TEST(ServerConfigTest, LoadFromFile) {
  testing::TempDir t;
  testing::write_file(t.file("server.toml"), minimal() + "name = \"from-file\"\n");
  auto c = load_server_config(t.file("server.toml"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "from-file");
  EXPECT_FALSE(load_server_config(t.file("missing.toml")));
  testing::write_file(t.file("bad.toml"), "data_dir = [unclosed\n");
  auto bad = load_server_config(t.file("bad.toml"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// Image store quotas, cap and GC policy (docs/operating.md, "Image store").
TEST(ServerConfigTest, ImagesTableSetsQuotasCapAndGc) {
  const ServerConfig d;
  auto defaults = parse(minimal());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->images.quota_bytes_per_user, d.images.quota_bytes_per_user);
  EXPECT_GT(d.images.quota_bytes_per_user, 0);
  EXPECT_GT(d.images.max_store_bytes, d.images.quota_bytes_per_user);
  auto c = parse(minimal() +
                 "[images]\nquota_bytes_per_user = 1000\nquota_blobs_per_user = 7\nmax_store_bytes = 5000\n"
                 "gc_idle_ms = 60000\ngc_interval_ms = 2000\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->images.quota_bytes_per_user, 1000);
  EXPECT_EQ(c->images.quota_blobs_per_user, 7);
  EXPECT_EQ(c->images.max_store_bytes, 5000);
  EXPECT_EQ(c->images.gc_idle_ms, 60000);
  EXPECT_EQ(c->image_gc_interval_ms, 2000);
  expect_invalid(minimal() + "[images]\nquota = 1\n", "images.quota");
  expect_invalid(minimal() + "[images]\nquota_bytes_per_user = -1\n", "quota_bytes_per_user");
  expect_invalid(minimal() + "[images]\ngc_idle_ms = 10\n", "gc_idle_ms");
  expect_invalid(minimal() + "[images]\ngc_interval_ms = 0\n", "gc_interval_ms");
}

// Sizes and money in the one human syntax (core/units.h), in the file and in flags alike.
TEST(ServerConfigTest, SizesWithUnitsAndCreditsAsText) {
  auto c = parse(minimal() + "[capacity]\nmemory_bytes = \"1.5GiB\"\ndisk_bytes = \"10 GiB\"\n" +
                 "[prices]\ncpu_use_per_core_hour = \"0.40\"\nnet_io_per_gib = \"2\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->capacity.memory_bytes, 3LL << 29);
  EXPECT_EQ(c->capacity.disk_bytes, 10LL << 30);
  EXPECT_EQ(c->rates.cpu_use_per_core_hour, 400'000);
  EXPECT_EQ(c->rates.net_io_per_gib, 2'000'000);  // text is credits, never micro-credits
  auto t = parse_toml(minimal(), "server.toml");
  ASSERT_TRUE(t);
  auto f = server_config_from_toml(*t, {{"capacity.memory_bytes", "64MiB"}, {"prices.disk_io_per_gib", "0.10"}});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->capacity.memory_bytes, 64LL << 20);
  EXPECT_EQ(f->rates.disk_io_per_gib, 100'000);
  expect_invalid(minimal() + "[capacity]\nmemory_bytes = \"9999999999TiB\"\n", "memory_bytes");
  expect_invalid(minimal() + "[capacity]\nmemory_bytes = \"1.5.3GiB\"\n", "memory_bytes");
  expect_invalid(minimal() + "[prices]\ncpu_use_per_core_hour = \"-0.40\"\n", "cpu_use_per_core_hour");
  expect_invalid(minimal() + "[prices]\ncpu_use_per_core_hour = \"0.0000001\"\n", "cpu_use_per_core_hour");
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

TEST(ServerConfigCountry, OptionalAndValidated) {
  auto none = parse(minimal());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->country, "");
  auto fr = parse(minimal() + "country = \"FR\"\n");
  ASSERT_TRUE(fr) << fr.error().message;
  EXPECT_EQ(fr->country, "FR");
  expect_invalid(minimal() + "country = \"fr\"\n", "server.country: not an ISO 3166-1 alpha-2 code");
  expect_invalid(minimal() + "country = \"France\"\n", "server.country");
  expect_invalid(minimal() + "country = 33\n", "country");
}

TEST(AdvertiserFields, CountryAndFreePortsTravelInTheSignedAdvert) {
  const auto key = KeyPair::generate();
  AdvertSource src;
  src.server_id = key.account_id();
  src.name = "s";
  src.endpoint = "http://127.0.0.1:7000";
  src.price_sheet = *SignedDoc::sign(kPriceSheetType, to_json(PriceSheet{key.account_id(), 1, Rates{}}), key);
  src.sandboxes = {"runc"};
  auto plain = make_advert(src, Resources{}, {}, 1000, key);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->body.contains("country"));  // old adverts stay byte-identical
  EXPECT_FALSE(plain->body.contains("free_ports"));
  src.country = "DE";
  src.free_ports = 10'000;
  auto doc = make_advert(src, Resources{}, {}, 1000, key);
  ASSERT_TRUE(doc) << doc.error().message;
  auto a = verify_advert(*doc);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->country, "DE");
  EXPECT_EQ(a->free_ports, 10'000);
}

}  // namespace
}  // namespace xop
