// Fuzz target: the cgroup counter file parsers (server/cgroup.h) on arbitrary bytes. A counter
// file is written by the kernel but its value is driven by the workload, so the parsers are held
// to exact answers: every accepted value equals the decimal number in the text, computed here
// independently with std::from_chars (which reports overflow instead of wrapping).
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "server/cgroup.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// The non-negative decimal `s` as int64, or nullopt (not all digits, empty, more than the 19
// digits a counter can have, or beyond INT64_MAX).
std::optional<int64_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> lines(std::string_view in) {
  std::vector<std::string> out;
  std::istringstream ss{std::string(in)};
  std::string l;
  while (std::getline(ss, l)) out.push_back(l);
  return out;
}

std::vector<std::string> words(const std::string& l) {
  std::vector<std::string> out;
  std::istringstream ss(l);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string_view trimmed = in;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.remove_suffix(1);
  const auto want = decimal(trimmed);
  auto v = xop::parse_cgroup_int(in);
  check(v.has_value() == want.has_value() && (!v || *v == *want));

  if (auto t = xop::parse_v1_blkio_total(in)) {
    // The last "Total N" line wins.
    std::optional<int64_t> last;
    for (const auto& l : lines(in)) {
      const auto w = words(l);
      if (w.size() == 2 && w[0] == "Total") last = decimal(w[1]);
    }
    check(last.has_value() && *t == *last);
  }
  if (auto ns = xop::parse_v2_cpu_usage_ns(in)) {
    std::optional<int64_t> us;
    for (const auto& l : lines(in)) {
      const auto w = words(l);
      if (w.size() == 2 && w[0] == "usage_usec") {
        us = decimal(w[1]);
        break;
      }
    }
    check(us.has_value() && *us <= INT64_MAX / 1000 && *ns == *us * 1000);
  }
  if (auto io = xop::parse_v2_io_bytes(in)) {
    int64_t sum = 0;
    bool overflow = false;
    for (const auto& l : lines(in)) {
      const auto w = words(l);
      for (size_t i = 1; i < w.size(); ++i) {
        const auto eq = w[i].find('=');
        check(eq != std::string::npos);
        const std::string key = w[i].substr(0, eq);
        if (key != "rbytes" && key != "wbytes") continue;
        const auto n = decimal(std::string_view(w[i]).substr(eq + 1));
        check(n.has_value());
        if (*n > INT64_MAX - sum) overflow = true;
        if (!overflow) sum += *n;
      }
    }
    check(!overflow && *io == sum);
  }
  return 0;
}
