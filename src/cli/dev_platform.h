// An all-in-one platform on loopback for `xop dev` and tests: XenoCorp, XIS and N XenoServers,
// each a separate HTTP service on its own port (port 0), all in this process but talking only
// through the public HTTP API, with embedded SQLite and servers placed at named cities.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "crypto/keys.h"
#include "proto/advert.h"

namespace xop {

struct DevCity {
  std::string name;
  double lat;
  double lon;
};

// London, New York, São Paulo, Johannesburg, Tokyo, then more.
const std::vector<DevCity>& dev_cities();

struct DevOptions {
  std::string data_dir;  // everything lives under here
  int servers = 5;
  std::string runtime = "runc";  // runc, crun or mock
  int64_t sample_interval_ms = 500;
  int64_t charging_interval_ms = 2000;
  int64_t advert_interval_ms = 1000;
  int64_t stop_grace_ms = 2000;
};

struct DevServer {
  std::string name;
  std::string city;
  std::string url;
  std::string id;
  GeoPoint location;
};

class DevPlatform {
 public:
  static Result<std::unique_ptr<DevPlatform>> start(const DevOptions& opts);
  ~DevPlatform();
  DevPlatform(const DevPlatform&) = delete;
  DevPlatform& operator=(const DevPlatform&) = delete;

  [[nodiscard]] std::string corp_url() const;
  [[nodiscard]] std::string xis_url() const;
  [[nodiscard]] const KeyPair& admin_key() const;
  [[nodiscard]] const std::vector<DevServer>& servers() const;
  // Stops servers (and their sessions), XIS and the corp.
  void stop();

 private:
  struct Impl;
  DevPlatform();
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
