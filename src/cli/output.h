// Output helpers for the CLI: aligned tables for people, JSON for scripts (--json).
#pragma once

#include <string>
#include <vector>

#include "core/json_reader.h"
#include "core/money.h"

namespace xop {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string credits(int64_t micros);     // "0.10", "1.234567" (core/units.h format_credits)
std::string human_bytes(int64_t bytes);  // "64MiB", "1.5GiB" (approximate)
std::string cpu_seconds(int64_t ns);     // "1.234 s"
// Errors go to stderr: "error: message" for people, or under --json / XOP_OUTPUT=json one line
// {"error":{"code":"...","message":"..."}} (set_json_errors(true)). Each returns its exit code
// (cli/exit_codes.h): fail() 1, usage_error() 2 (code "usage").
void set_json_errors(bool on);
int fail(const std::string& message);
int fail(const Error& e);
// A sentence added to every later `fail(Error)` of an unreachable daemon (ErrorCode::kUnavailable),
// e.g. that the profile names the platform of an `xop dev` that no longer runs. Empty: none.
void set_unavailable_hint(std::string hint);
int usage_error(const std::string& message);
// Writes one error in the current form (text or JSON) without choosing an exit code.
void print_error(const std::string& code, const std::string& message);
void print_json(const Json& j);

}  // namespace xop
