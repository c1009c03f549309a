// A deployment manifest (YAML), what `xop deploy` reads:
//
//   name: burner                       # label, letters/digits/-/_/.
//   image: build/images/burner         # OCI image layout directory or .tar of one
//   command: ["/bin/sh", "-c", "..."]  # optional; default: the image's entrypoint + cmd
//   env: {KEY: value}                  # optional
//   resources: {cpu_millis: 250, memory_mib: 64, disk_mib: 0, net_mbps: 0, pids: 64}
//   count: 3                           # how many servers
//   near: {lat: 48.8566, lon: 2.3522}  # optional: rank servers by distance to this point
//   max_price_per_hour: "1.0"          # optional ceiling, credits per hour for the reservation
//   budget: "0.5"                      # credits held per session (its purchase order)
//   ports: [{name: web, port: 80, protocol: tcp}]  # optional: published on host ports (at most 16)
//
// Unknown keys, wrong types and out-of-range values are errors naming the key.
#pragma once

#include <optional>

#include "core/money.h"
#include "proto/advert.h"
#include "proto/session_spec.h"

namespace xop {

inline constexpr size_t kMaxManifestBytes = size_t{256} * 1024;

struct DeployManifest {
  std::string name;
  std::string image;  // path, relative paths resolved against the manifest
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  Resources resources;
  int64_t pids = 64;
  std::vector<PortSpec> ports;
  int64_t count = 1;
  std::optional<GeoPoint> near;
  std::optional<Money> max_price_per_hour;
  Money budget;
};

Result<DeployManifest> parse_manifest(std::string_view yaml_text, const std::string& base_dir);
Result<DeployManifest> load_manifest(const std::string& path);

}  // namespace xop
