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

std::string credits(int64_t micros);     // "1.234567"
std::string human_bytes(int64_t bytes);  // "64.0 MiB"
std::string cpu_seconds(int64_t ns);     // "1.234 s"
// Prints an error to stderr as "error: message" and returns exit code 1.
int fail(const std::string& message);
int fail(const Error& e);
void print_json(const Json& j);

}  // namespace xop
