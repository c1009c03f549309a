// Deploys a manifest onto many servers at once, through the public APIs only:
//   1. read the OCI image layout and verify its blobs;
//   2. ask XIS for `count` servers (resources, price ceiling, near a point);
//   3. for each chosen server, in parallel: upload the blobs it lacks, get a purchase order from
//      XenoCorp bound to that server's signed price sheet, and create the session;
//   4. on any failure after the purchase order, close it so the hold is released;
//   5. once cancelled (set_cancellation), admit nothing more: a worker that has not created its
//      session yet stops, closing its purchase order if it holds one. Sessions already created
//      are reported (and passed to the on_session hook) as usual; the caller decides their fate.
// Progress goes to a callback, one line per step.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "deploy/cancellation.h"
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
  bool interrupted = false;  // stopped by the cancellation before its session was created
  double seconds = 0;
};

struct DeployResult {
  std::vector<DeployOutcome> outcomes;
  // "name: reason" from discovery: examples of the servers each predicate removed (at most 5 per
  // predicate; every server when the count is above what one query may ask, kMaxQueryCount)
  std::vector<std::string> rejected;
  bool interrupted = false;  // the cancellation was set during the deploy
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
  // Called from a worker thread as soon as a server answered with a session, before deploy()
  // returns (the CLI records it in the home there). Calls are serialised.
  void set_on_session(std::function<void(const DeployOutcome&)> f) { on_session_ = std::move(f); }
  // Stops admitting work once `c` is cancelled (see step 5 above).
  void set_cancellation(std::shared_ptr<const Cancellation> c) { cancel_ = std::move(c); }
  // Test only: the first worker to obtain a purchase order waits there until the cancellation is
  // set (the CLI sets it from $XOP_TEST_PAUSE_AFTER_FIRST_PO; docs/testing.md).
  void set_pause_after_first_po(bool pause) { pause_after_first_po_ = pause; }
  // How many servers are placed at once (default 0: all of them). 1 places them one after the
  // other in ranking order, which a seeded simulation needs to repeat its ids and statements.
  void set_parallelism(size_t n) { parallelism_ = n; }

 private:
  KeyPair key_;
  std::string corp_url_;
  std::string xis_url_;
  std::string scratch_dir_;
  const Clock& clock_;
  Connector connector_;
  std::function<void(const DeployOutcome&)> on_session_;
  std::shared_ptr<const Cancellation> cancel_;
  bool pause_after_first_po_ = false;
  size_t parallelism_ = 0;
};

}  // namespace xop
