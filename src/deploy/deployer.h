// Deploys a manifest onto many servers at once, through the public APIs only:
//   1. read the OCI image layout and verify its blobs;
//   2. ask XIS for `count` servers (resources, price ceiling, near a point);
//   3. for each chosen server, in parallel: upload the blobs it lacks, get a purchase order from
//      XenoCorp bound to that server's signed price sheet, and create the session;
//   4. on any failure after the purchase order, close it so the hold is released.
// Progress goes to a callback, one line per step.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "deploy/manifest.h"
#include "deploy/user_home.h"

namespace xop {

struct DeployOutcome {
  std::string server;
  std::string name;
  std::string city;
  std::string endpoint;
  double distance_km = 0;
  Money price_per_hour;
  bool ok = false;
  std::string session;
  std::string po_id;
  std::string error;
  double seconds = 0;
};

struct DeployResult {
  std::vector<DeployOutcome> outcomes;
  std::vector<std::string> rejected;  // "name: reason" from discovery
  double seconds = 0;
};

using Progress = std::function<void(const std::string&)>;

class Deployer {
 public:
  Deployer(KeyPair key, std::string corp_url, std::string xis_url, std::string scratch_dir,
           const Clock& clock = SystemClock::instance());
  // Fails only when nothing could be attempted (bad image, discovery failed, too few servers);
  // per-server failures are in the outcomes.
  Result<DeployResult> deploy(const DeployManifest& m, const Progress& progress);
  // How the deployer reaches XIS, XenoCorp and the servers (default: HTTP); the simulated
  // platform passes one that serves each endpoint in-process.
  void set_connector(Connector connector) { connector_ = std::move(connector); }

 private:
  KeyPair key_;
  std::string corp_url_;
  std::string xis_url_;
  std::string scratch_dir_;
  const Clock& clock_;
  Connector connector_;
};

}  // namespace xop
