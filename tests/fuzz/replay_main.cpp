// Runs a fuzz target over every file of a corpus directory plus a fixed set of generated
// hostile inputs (empty, huge, deeply nested, random bytes from a fixed seed). Used by ctest
// so every seed and past crash is replayed on each run, with GCC's sanitizers when enabled.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void run(const std::string& s) { LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
}  // namespace

int main(int argc, char** argv) {
  size_t n = 0;
  if (argc > 1 && std::filesystem::is_directory(argv[1])) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      run(ss.str());
      ++n;
    }
  }
  run("");
  run(std::string(1 << 20, '['));
  run(std::string(1 << 20, '{'));
  run(std::string(100000, 'a'));
  run("{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}");
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 512, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    run(s);
  }
  n += 2005;
  std::printf("replayed %zu inputs\n", n);
  return 0;
}
