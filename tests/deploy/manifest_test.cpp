#include "deploy/manifest.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace xop {
namespace {

const char* kFull = R"(
name: burner
image: images/burner
command: ["/bin/sh", "-c", "echo hi"]
env: {MODE: fast, "EMPTY": ""}
resources: {cpu_millis: 250, memory_mib: 64, disk_mib: 10, net_mbps: 5, pids: 32}
count: 3
near: {lat: 48.8566, lon: 2.3522}
max_price_per_hour: "1.5"
budget: "0.25"
)";

const char* kMinimal = "image: /abs/img\nresources: {cpu_millis: 100, memory_mib: 16}\nbudget: \"1\"\n";

void expect_invalid(const std::string& yaml, const std::string& words) {
  auto m = parse_manifest(yaml, "/base");
  ASSERT_FALSE(m) << "accepted:\n" << yaml;
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(m.error().message.find(words), std::string::npos) << m.error().message;
}

TEST(ManifestTest, EveryKeyIsRead) {
  auto m = parse_manifest(kFull, "/home/u/app");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->name, "burner");
  EXPECT_EQ(m->image, "/home/u/app/images/burner");  // relative: against the manifest's directory
  EXPECT_EQ(m->command, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(m->env, (std::map<std::string, std::string>{{"EMPTY", ""}, {"MODE", "fast"}}));
  EXPECT_EQ(m->resources.cpu_millis, 250);
  EXPECT_EQ(m->resources.memory_bytes, 64LL << 20);
  EXPECT_EQ(m->resources.disk_bytes, 10LL << 20);
  EXPECT_EQ(m->resources.net_bps, 5'000'000);
  EXPECT_EQ(m->pids, 32);
  EXPECT_EQ(m->count, 3);
  ASSERT_TRUE(m->near);
  EXPECT_EQ(m->near->lat_e6, 48'856'600);
  EXPECT_EQ(m->near->lon_e6, 2'352'200);
  ASSERT_TRUE(m->max_price_per_hour);
  EXPECT_EQ(m->max_price_per_hour->micros(), 1'500'000);
  EXPECT_EQ(m->budget.micros(), 250'000);
}

TEST(ManifestTest, DefaultsAndAbsoluteImage) {
  auto m = parse_manifest(kMinimal, "/base");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->image, "/abs/img");
  EXPECT_EQ(m->name, "app");
  EXPECT_TRUE(m->command.empty());
  EXPECT_TRUE(m->env.empty());
  EXPECT_EQ(m->pids, 64);
  EXPECT_EQ(m->count, 1);
  EXPECT_FALSE(m->near);
  EXPECT_FALSE(m->max_price_per_hour);
  EXPECT_EQ(m->resources.disk_bytes, 0);
  auto rel = parse_manifest("image: img\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"1\"\n", "");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->image, "img");  // no base dir: as written
}

TEST(ManifestTest, LoadResolvesAgainstTheManifestDirectory) {
  testing::TempDir t;
  testing::write_file(t.file("proj/deploy.yaml"),
                      "image: ./layout\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"1\"\n");
  auto m = load_manifest(t.file("proj/deploy.yaml"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->image, t.file("proj") + "/./layout");
  auto missing = load_manifest(t.file("nope.yaml"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  // Files over the limit are refused even through load_manifest (it reads at most limit+1).
  testing::write_file(t.file("big.yaml"), std::string(kMinimal) + "#" + std::string(kMaxManifestBytes, 'x') + "\n");
  auto big = load_manifest(t.file("big.yaml"));
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("256 KiB"), std::string::npos);
}

TEST(ManifestTest, UnknownKeysAreErrors) {
  expect_invalid(std::string(kMinimal) + "replicas: 3\n", "manifest.replicas");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4, gpus: 1}\nbudget: \"1\"\n",
                 "manifest.resources.gpus");
  expect_invalid(std::string(kMinimal) + "near: {lat: 1, lon: 2, alt: 3}\n", "manifest.near.alt");
  expect_invalid(std::string(kMinimal) + "? [a, b]\n: 1\n", "unknown key");
}

TEST(ManifestTest, MissingRequiredKeys) {
  expect_invalid("resources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"1\"\n", "image");
  expect_invalid("image: \"\"\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"1\"\n", "image");
  expect_invalid("image: x\nbudget: \"1\"\n", "resources");
  expect_invalid("image: x\nresources: {memory_mib: 4}\nbudget: \"1\"\n", "cpu_millis");
  expect_invalid("image: x\nresources: {cpu_millis: 1}\nbudget: \"1\"\n", "memory_mib");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\n", "budget");
  expect_invalid(std::string(kMinimal) + "near: {lat: 1}\n", "near");
}

TEST(ManifestTest, WrongTypes) {
  expect_invalid("image: [a]\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"1\"\n", "image");
  expect_invalid(std::string(kMinimal) + "count: three\n", "count");
  expect_invalid(std::string(kMinimal) + "count: 1.5\n", "count");
  expect_invalid(std::string(kMinimal) + "command: /bin/sh\n", "command");
  expect_invalid(std::string(kMinimal) + "command: [[a]]\n", "command");
  expect_invalid(std::string(kMinimal) + "env: [A, B]\n", "env");
  expect_invalid(std::string(kMinimal) + "env: {A: [1]}\n", "env");
  expect_invalid("image: x\nresources: [1, 2]\nbudget: \"1\"\n", "resources");
  expect_invalid("image: x\nresources: {cpu_millis: \"many\", memory_mib: 4}\nbudget: \"1\"\n", "cpu_millis");
  expect_invalid(std::string(kMinimal) + "near: here\n", "near");
  expect_invalid(std::string(kMinimal) + "near: {lat: north, lon: 2}\n", "lat");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: [1]\n", "budget");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: lots\n", "budget");
  expect_invalid(std::string(kMinimal) + "name: {a: 1}\n", "name");
  expect_invalid("- just\n- a list\n", "mapping");
  expect_invalid("just a string\n", "mapping");
}

TEST(ManifestTest, NumbersOutOfRange) {
  expect_invalid(std::string(kMinimal) + "count: 0\n", "count");
  expect_invalid(std::string(kMinimal) + "count: -1\n", "count");
  expect_invalid(std::string(kMinimal) + "count: 1001\n", "count");
  expect_invalid(std::string(kMinimal) + "count: 99999999999999999999999\n", "count");
  expect_invalid("image: x\nresources: {cpu_millis: -5, memory_mib: 4}\nbudget: \"1\"\n", "cpu_millis");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 3}\nbudget: \"1\"\n", "memory_mib");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 99999999999}\nbudget: \"1\"\n", "memory_mib");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4, disk_mib: -1}\nbudget: \"1\"\n", "disk_mib");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4, net_mbps: 1e99}\nbudget: \"1\"\n", "net_mbps");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4, pids: 0}\nbudget: \"1\"\n", "pids");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4, pids: 100000}\nbudget: \"1\"\n", "pids");
  expect_invalid(std::string(kMinimal) + "near: {lat: 91, lon: 0}\n", "lat");
  expect_invalid(std::string(kMinimal) + "near: {lat: 0, lon: -181}\n", "lon");
  expect_invalid(std::string(kMinimal) + "near: {lat: .nan, lon: 0}\n", "lat");
  expect_invalid(std::string(kMinimal) + "near: {lat: .inf, lon: 0}\n", "lat");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"0\"\n", "positive");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"-1\"\n", "budget");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"0.0000001\"\n", "budget");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory_mib: 4}\nbudget: \"99999999999999999999\"\n", "budget");
  expect_invalid(std::string(kMinimal) + "max_price_per_hour: \"0\"\n", "max_price_per_hour");
}

TEST(ManifestTest, SpecValidationApplies) {
  expect_invalid(std::string(kMinimal) + "name: \"bad name!\"\n", "name");
  expect_invalid(std::string(kMinimal) + "name: " + std::string(65, 'a') + "\n", "name");
  expect_invalid(std::string(kMinimal) + "env: {\"A=B\": c}\n", "env");
  std::string many = std::string(kMinimal) + "command: [";
  for (int i = 0; i < 300; ++i) many += (i ? ",a" : "a");
  expect_invalid(many + "]\n", "command");
}

TEST(ManifestTest, PortsAreReadAndCheckedLikeTheSpec) {
  auto m = parse_manifest(
      std::string(kMinimal) + "ports:\n  - {name: web, port: 8080}\n  - {name: dns, port: 53, protocol: udp}\n",
      "/base");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->ports, (std::vector<PortSpec>{{"web", 8080, "tcp"}, {"dns", 53, "udp"}}));
  EXPECT_TRUE(parse_manifest(kMinimal, "/base")->ports.empty());
  expect_invalid(std::string(kMinimal) + "ports: {name: web}\n", "manifest.ports");
  expect_invalid(std::string(kMinimal) + "ports: [8080]\n", "manifest.ports[0]");
  expect_invalid(std::string(kMinimal) + "ports: [{port: 80}]\n", "manifest.ports[0].name");
  expect_invalid(std::string(kMinimal) + "ports: [{name: web}]\n", "manifest.ports[0].port");
  expect_invalid(std::string(kMinimal) + "ports: [{name: web, port: 70000}]\n", "manifest.ports[0].port");
  expect_invalid(std::string(kMinimal) + "ports: [{name: web, port: 80, protocol: icmp}]\n", "protocol");
  expect_invalid(std::string(kMinimal) + "ports: [{name: web, port: 80, proto: tcp}]\n", "proto");
  expect_invalid(std::string(kMinimal) + "ports: [{name: web, port: 80}, {name: web, port: 81}]\n", "duplicate");
  std::string many = std::string(kMinimal) + "ports: [";
  for (int i = 0; i < 17; ++i) many += (i ? ", " : "") + std::string("{name: p") + std::to_string(i) + ", port: 1}";
  expect_invalid(many + "]\n", "manifest.ports");
}

TEST(ManifestTest, NotYamlAndHostileYaml) {
  expect_invalid("image: [unclosed\n", "not valid YAML");
  expect_invalid("{{{{", "");
  expect_invalid("", "mapping");
  expect_invalid(std::string("\0\xff\xfe", 3), "");
  // Deep nesting must not overflow the stack.
  expect_invalid(std::string(kMinimal) + "env: " + std::string(100000, '[') + std::string(100000, ']') + "\n", "");
  expect_invalid(std::string(kMinimal) + "near: " + std::string(50000, '{') + "\n", "");
  // Alias bomb: each level doubles, but nothing here may expand it.
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i < 40; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + "]\n";
  }
  expect_invalid(bomb + kMinimal, "unknown key");
  expect_invalid(std::string(kMinimal) + "x: &x [1]\ncommand: *x\n", "");
  std::string inner = "command: [&b0 [x, x]";
  for (int i = 1; i < 40; ++i) {
    inner += ", &b" + std::to_string(i) + " [*b" + std::to_string(i - 1) + ", *b" + std::to_string(i - 1) + "]";
  }
  expect_invalid(std::string(kMinimal) + inner + "]\n", "command");
  // Over the size limit.
  expect_invalid(std::string(kMinimal) + "# " + std::string(kMaxManifestBytes, 'x') + "\n", "256 KiB");
}

TEST(Manifest, SizesWithUnits) {
  auto m =
      parse_manifest("image: x\nresources: {cpu_millis: 1, memory: 64MiB, disk: \"1 GiB\"}\nbudget: \"0.10\"\n", "/b");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->resources.memory_bytes, 64LL << 20);
  EXPECT_EQ(m->resources.disk_bytes, 1LL << 30);
  EXPECT_EQ(m->budget.micros(), 100'000);
  m = parse_manifest("image: x\nresources: {cpu_millis: 1, memory: 8388608}\nbudget: \"1\"\n", "/b");  // bytes
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->resources.memory_bytes, 8LL << 20);
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 64MiB, memory_mib: 64}\nbudget: \"1\"\n", "not both");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 1MiB}\nbudget: \"1\"\n", "between 4MiB");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 9999999999TiB}\nbudget: \"1\"\n", "memory");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 1.5.3GiB}\nbudget: \"1\"\n", "memory");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: -64MiB}\nbudget: \"1\"\n", "memory");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: [1]}\nbudget: \"1\"\n", "memory");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 64MiB, disk: 2PiB}\nbudget: \"1\"\n", "disk");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 64MiB}\nbudget: \"-1\"\n", "budget");
  expect_invalid("image: x\nresources: {cpu_millis: 1, memory: 64MiB}\nbudget: \"1.5.3\"\n", "budget");
}

}  // namespace
}  // namespace xop
