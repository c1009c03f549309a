// Runs the real `xop` binary as a user would, for tests of the command line itself: exit code,
// stdout and stderr apart, with extra environment variables.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace xop::testing {

struct XopRun {
  int code = -1;  // the exit code (-1 when it did not exit normally)
  std::string out;
  std::string err;
};

// Runs XOP_BINARY with `args` and the current environment plus `env` (a value of "" unsets the
// variable). XOP_HOME, XOP_OUTPUT, XOP_CORP_URL, XOP_XIS_URL and XOP_PROFILE are unset unless
// given, so the caller's environment does not leak into the test. Waits for it to exit.
XopRun run_xop(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

}  // namespace xop::testing
