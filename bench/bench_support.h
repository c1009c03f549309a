// Helpers shared by the benchmarks (not a benchmark itself: bench/CMakeLists.txt builds only
// *_bench.cpp).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace xop::bench {

// A fresh directory under the system temp dir; aborts when none can be made.
inline std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "xop-bench-XXXXXX").string();
  if (::mkdtemp(t.data()) == nullptr) std::abort();
  return t;
}

}  // namespace xop::bench
