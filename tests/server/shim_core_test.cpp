// The xop-shim launcher's command line (server/shim_core.h): malformed ones are refused with exit
// code 2 before the launcher touches any descriptor or starts anything. (The well-formed path runs
// in every real runc test: the driver's shims go through the launcher.)
#include "server/shim_core.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xop {
namespace {

int launch(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return shim::launcher_main(static_cast<int>(args.size()), argv.data());
}

std::vector<std::string> good() {
  return {"xop-shim", "/x/init.pid", "/x/exit_code.tmp", "/x/exit_code", "123", "4096",
          "/x/log",   "/x/log.1",    "1048576",          "/bin/true",    "true"};
}

TEST(ShimLauncherTest, MalformedCommandLinesAreRefused) {
  EXPECT_EQ(launch({"xop-shim"}), 2);
  auto short_one = good();
  short_one.pop_back();  // no argv[0] for the runtime
  EXPECT_EQ(launch(short_one), 2);
  for (const auto& [index, bad] : std::vector<std::pair<size_t, std::string>>{{4, ""},
                                                                              {4, "-1"},
                                                                              {4, "12x"},
                                                                              {4, "99999999999999999999999"},
                                                                              {5, "0"},
                                                                              {5, "half"},
                                                                              {8, "0"},
                                                                              {8, std::string(5000, '9')}}) {
    auto a = good();
    a[index] = bad;
    EXPECT_EQ(launch(a), 2) << "argument " << index << " = \"" << bad.substr(0, 40) << "\"";
  }
}

}  // namespace
}  // namespace xop
