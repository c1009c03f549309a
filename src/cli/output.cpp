#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/exit_codes.h"
#include "core/units.h"

namespace xop {

std::string Table::render() const {
  std::vector<size_t> w(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      out += cell;
      if (i + 1 < w.size()) out += std::string(w[i] - cell.size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string credits(int64_t micros) { return format_credits(Money::micros(micros)); }

std::string human_bytes(int64_t bytes) { return format_size_approx(bytes); }

std::string cpu_seconds(int64_t ns) { return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9); }

namespace {
bool json_errors = false;
std::string unavailable_hint;  // NOLINT(cert-err58-cpp): set once per process by the CLI
}  // namespace

void set_unavailable_hint(std::string hint) { unavailable_hint = std::move(hint); }

void set_json_errors(bool on) { json_errors = on; }

void print_error(const std::string& code, const std::string& message) {
  if (json_errors) {
    const Json j{{"error", Json{{"code", code}, {"message", message}}}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  } else {
    std::fprintf(stderr, "error: %s\n", message.c_str());
  }
}

int fail(const std::string& message) {
  print_error("failed", message);
  return kExitFailure;
}
int fail(const Error& e) {
  std::string message = e.message.empty() ? e.to_string() : e.message;
  if (e.code == ErrorCode::kUnavailable && !unavailable_hint.empty()) message += "; " + unavailable_hint;
  print_error(e.code_name(), message);
  return kExitFailure;
}
int usage_error(const std::string& message) {
  print_error("usage", message);
  return kExitUsage;
}

void print_json(const Json& j) { std::cout << j.dump(2) << std::endl; }

}  // namespace xop
