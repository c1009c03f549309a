// A wire document's fields declared once. One Schema<T> table drives both directions:
// encode() writes every field, and decode() reads them strictly through a JsonReader (types,
// ranges and lengths checked, unknown fields refused, errors naming the full path such as
// "usage_batch.records[2].used.cpu_ns: expected an integer"), then runs the document's checks.
// So a field cannot be written without being read, or read with other limits than documented.
//
//   const Schema<Rates>& rates_schema() {
//     static const auto s = Schema<Rates>("rates")
//                               .i64("cpu_reserve_per_core_hour", &Rates::cpu_reserve_per_core_hour, 0, kMaxRate)
//                               ...;
//     return s;
//   }
//
// A field's key must be a string literal (kept by pointer). Thread-safe once built.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json_reader.h"

namespace xop {

template <typename T>
class Schema {
 public:
  // `name` is the document's path in errors when decode() is given none.
  explicit Schema(std::string name) : name_(std::move(name)) {}

  Schema& i64(const char* key, int64_t T::*m, int64_t min = INT64_MIN, int64_t max = INT64_MAX) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, min, max](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.i64(k, min, max); });
  }
  // Optional on the wire: absent reads as `fallback` (always written).
  Schema& i64_or(const char* key, int64_t T::*m, int64_t fallback, int64_t min = INT64_MIN, int64_t max = INT64_MAX) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, fallback, min, max](JsonReader& r, T& v, const char* k, const std::string&) {
          v.*m = r.opt_i64(k, min, max).value_or(fallback);
        });
  }
  Schema& str(const char* key, std::string T::*m, size_t max_len = 4096) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, max_len](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.str(k, max_len); });
  }
  Schema& boolean(const char* key, bool T::*m) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.boolean(k); });
  }
  Schema& str_array(const char* key, std::vector<std::string> T::*m, size_t max_len, size_t max_item_len = 4096) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, max_len, max_item_len](JsonReader& r, T& v, const char* k, const std::string&) {
          v.*m = r.str_array(k, max_len, max_item_len);
        });
  }
  // A nested document with its own schema (which must outlive this one: a function-local static);
  // its errors name it ("<where>.<key>.<field>").
  template <typename U>
  Schema& object(const char* key, U T::*m, const Schema<U>& sub) {
    return field(
        key, [m, &sub](const T& v, Json& j, const char* k) { j[k] = sub.encode(v.*m); },
        [m, &sub](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json& raw = r.object(k);
          if (!r.ok()) return;
          auto d = sub.decode(raw, where + "." + k);
          if (d) v.*m = std::move(*d);
          r.absorb(d.map([](const U&) {}));
        });
  }
  // An array of nested documents, at most `max_len`; item i's errors name "<key>[i]".
  template <typename U>
  Schema& array(const char* key, std::vector<U> T::*m, const Schema<U>& sub, size_t max_len) {
    return field(
        key,
        [m, &sub](const T& v, Json& j, const char* k) {
          Json arr = Json::array();
          for (const auto& item : v.*m) arr.push_back(sub.encode(item));
          j[k] = std::move(arr);
        },
        [m, &sub, max_len](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json& raw = r.array(k, max_len);
          if (!r.ok()) return;
          std::vector<U> out;
          out.reserve(raw.size());
          for (size_t i = 0; i < raw.size() && r.ok(); ++i) {
            auto d = sub.decode(raw[i], where + "." + k + "[" + std::to_string(i) + "]");
            if (d) out.push_back(std::move(*d));
            r.absorb(d.map([](const U&) {}));
          }
          if (r.ok()) v.*m = std::move(out);
        });
  }
  // A field with a codec of its own (a money amount, an enum, a signed document): `enc` gives
  // its JSON, `dec` reads it from the reader (reporting problems through it).
  Schema& custom(const char* key, std::function<Json(const T&)> enc,
                 std::function<void(JsonReader&, T&, const char* key)> dec) {
    return field(
        key, [enc = std::move(enc)](const T& v, Json& j, const char* k) { j[k] = enc(v); },
        [dec = std::move(dec)](JsonReader& r, T& v, const char* k, const std::string&) { dec(r, v, k); });
  }
  // A rule over the decoded document (cross-field, identifiers), run once every field was read.
  // It returns "" when the document is fine, else the rest of the message after the document's
  // path: ".server: not an account id" or ": period out of range".
  Schema& check(std::function<std::string(const T&)> rule) {
    checks_.push_back(std::move(rule));
    return *this;
  }

  [[nodiscard]] Json encode(const T& v) const {
    Json j = Json::object();
    for (const auto& f : fields_) f.enc(v, j, f.key);
    return j;
  }
  [[nodiscard]] Result<T> decode(const Json& j) const { return decode(j, name_); }
  [[nodiscard]] Result<T> decode(const Json& j, const std::string& where) const {
    JsonReader r(j, where);
    T v{};
    for (const auto& f : fields_) {
      if (!r.ok()) break;
      f.dec(r, v, f.key, where);
    }
    XOP_RETURN_IF_ERROR(r.finish());
    for (const auto& rule : checks_) {
      std::string problem = rule(v);
      if (!problem.empty()) return invalid(where + problem);
    }
    return v;
  }
  [[nodiscard]] const std::string& name() const { return name_; }
  // The keys in declaration order (for documentation tests).
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& f : fields_) out.emplace_back(f.key);
    return out;
  }

 private:
  using Enc = std::function<void(const T&, Json&, const char*)>;
  using Dec = std::function<void(JsonReader&, T&, const char*, const std::string& where)>;
  struct Field {
    const char* key;
    Enc enc;
    Dec dec;
  };
  Schema& field(const char* key, Enc enc, Dec dec) {
    fields_.push_back(Field{key, std::move(enc), std::move(dec)});
    return *this;
  }

  std::string name_;
  std::vector<Field> fields_;
  std::vector<std::function<std::string(const T&)>> checks_;
};

}  // namespace xop
