// Runs the real `xop` binary to completion for CLI tests: its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace xop::testing {

struct XopRun {
  int code = -1;  // exit code; -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs XOP_BINARY with `args` (no shell), environment `env` added ("NAME=value"), stdin empty.
XopRun run_xop(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace xop::testing
