// The error codes are documented once, with the API: docs/api/errors.md has one row per
// ErrorCode (wire name, HTTP status) and each OpenAPI file's Error schema enumerates exactly the
// wire names. Both directions: a new code must be documented, a documented code must exist.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "core/error_codes.h"
#include "net/http.h"
#include "support/openapi.h"
#include "support/test_support.h"

namespace xop {
namespace {

// (name -> status) of the table rows "| `name` | status | meaning |".
std::map<std::string, int> documented_codes() {
  std::map<std::string, int> out;
  std::istringstream in(testing::read_file(std::string(XOP_SOURCE_DIR) + "/docs/api/errors.md"));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("| `")) continue;
    const size_t end = line.find('`', 3);
    const size_t bar = line.find('|', end);
    const size_t bar2 = line.find('|', bar + 1);
    EXPECT_TRUE(end != std::string::npos && bar != std::string::npos && bar2 != std::string::npos) << line;
    if (bar2 == std::string::npos) continue;
    const std::string name = line.substr(3, end - 3);
    EXPECT_EQ(out.count(name), 0u) << "documented twice: " << name;
    out[name] = std::stoi(line.substr(bar + 1, bar2 - bar - 1));
  }
  return out;
}

std::map<std::string, int> enum_codes() {
  std::map<std::string, int> out;
  for (const auto& c : all_error_codes()) out[c.name] = c.http_status;
  return out;
}

TEST(ErrorCodesDocTest, EveryCodeIsListedOnceWithItsWireNameAndStatus) {
  std::set<std::string> names;
  for (const auto& c : all_error_codes()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    const Error e{c.code, "x"};
    EXPECT_STREQ(e.code_name(), c.name);
    EXPECT_EQ(e.http_status(), c.http_status);
    EXPECT_EQ(error_code_from_name(c.name), c.code);
  }
  // Declaration order, one entry per enumerator (the last is kIdempotencyKeyInFlight).
  ASSERT_FALSE(all_error_codes().empty());
  EXPECT_EQ(static_cast<size_t>(all_error_codes().back().code) + 1, all_error_codes().size());
  EXPECT_EQ(all_error_codes().back().code, ErrorCode::kIdempotencyKeyInFlight);
}

TEST(ErrorCodesDocTest, TheDocTableEqualsTheEnum) {
  const auto doc = documented_codes();
  const auto codes = enum_codes();
  for (const auto& [name, status] : codes) {
    auto it = doc.find(name);
    ASSERT_NE(it, doc.end()) << name << " is not in docs/api/errors.md";
    EXPECT_EQ(it->second, status) << name;
  }
  for (const auto& [name, status] : doc) EXPECT_EQ(codes.count(name), 1u) << name << " is documented but no ErrorCode";
}

TEST(ErrorCodesDocTest, EachOpenApiErrorSchemaEnumeratesTheCodes) {
  std::set<std::string> names;
  for (const auto& c : all_error_codes()) names.insert(c.name);
  for (const char* service : {"corp", "xis", "server"}) {
    const auto listed = testing::openapi_error_codes(service);
    const std::set<std::string> set(listed.begin(), listed.end());
    EXPECT_EQ(set.size(), listed.size()) << service << ": duplicates";
    EXPECT_EQ(set, names) << service << ".yaml components.schemas.Error code enum";
  }
}

TEST(ErrorCodesDocTest, TheWireBodyCarriesTheCodeAndStatus) {
  for (const auto& c : all_error_codes()) {
    const auto r = error_response(Error{c.code, "m"});
    EXPECT_EQ(r.status, c.http_status) << c.name;
    const Json body = Json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], c.name);
    if (c.code == ErrorCode::kInternal) continue;  // below
    EXPECT_EQ(body["error"]["message"], "m");
  }
}

// What failed inside a service (an SQL error, a file path) is logged for its operator, never sent
// to the caller: the answer names only a reference to the log line.
TEST(ErrorCodesDocTest, InternalErrorsHideTheirDetailsBehindAReference) {
  const auto a = error_response(Error{ErrorCode::kInternal, "sqlite step: disk I/O error at /var/lib/xop/corp.db"});
  const auto b = error_response(Error{ErrorCode::kInternal, "sqlite step: disk I/O error at /var/lib/xop/corp.db"});
  EXPECT_EQ(a.status, 500);
  const std::string m = Json::parse(a.body)["error"]["message"].get<std::string>();
  EXPECT_EQ(m.find("sqlite"), std::string::npos) << m;
  EXPECT_EQ(m.find("/var/lib"), std::string::npos) << m;
  EXPECT_EQ(m.rfind("internal error (the service logged it as e", 0), 0u) << m;
  EXPECT_NE(m, Json::parse(b.body)["error"]["message"].get<std::string>()) << "each failure its own reference";
  EXPECT_EQ(Json::parse(a.body)["error"]["code"], "internal");
}

}  // namespace
}  // namespace xop
