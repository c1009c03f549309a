// A wire document's fields declared once. One Schema<T> table drives both directions:
// encode() writes every field, and decode() reads them strictly through a JsonReader (types,
// ranges and lengths checked, unknown fields refused, errors naming the full path such as
// "usage_batch.records[2].used.cpu_ns: expected an integer"), then runs the document's checks.
// So a field cannot be written without being read, or read with other limits than documented.
//
//   const Schema<Rates>& rates_schema() {
//     static const auto s = Schema<Rates>("rates")
//                               .i64("cpu_reserve_per_core_hour_micros", &Rates::cpu_reserve_per_core_hour, 0,
//                               kMaxRate)
//                               ...;
//     return s;
//   }
//
// A field's key must be a string literal (kept by pointer). Thread-safe once built. A JSON null
// reads as an absent field. Field kinds: i64, i64_or, opt_i64, f64, money, opt_money, str,
// str_or, opt_str, boolean, boolean_or, str_array, enumeration (a name table), object, object_or,
// opt_object, object_with (a codec of its own, e.g. an embedded signed document), array,
// array_with, custom and custom_opt; then check (a rule naming the problem) and verify (a step
// that may fill derived members and fails with its own error code).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json_reader.h"
#include "core/money.h"

namespace xop {

// How an optional field that holds no value is written.
enum class Absent { kOmitted, kNull };

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
  // Optional on the wire and in the struct: absent (or null) reads as nullopt, which is written
  // as `absent` says.
  Schema& opt_i64(const char* key, std::optional<int64_t> T::*m, int64_t min = INT64_MIN, int64_t max = INT64_MAX,
                  Absent absent = Absent::kOmitted) {
    return field(
        key,
        [m, absent](const T& v, Json& j, const char* k) {
          if (v.*m) {
            j[k] = *(v.*m);
          } else if (absent == Absent::kNull) {
            j[k] = nullptr;
          }
        },
        [m, min, max](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.opt_i64(k, min, max); });
  }
  // A finite JSON number in [min, max] (not for money: money is integer micro-credits).
  Schema& f64(const char* key, double T::*m, double min, double max) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, min, max](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.number(k, min, max); });
  }
  // An amount as integer micro-credits, at least `min_micros`.
  Schema& money(const char* key, Money T::*m, int64_t min_micros = 0) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = (v.*m).micros(); },
        [m, min_micros](JsonReader& r, T& v, const char* k, const std::string&) {
          v.*m = Money::micros(r.i64(k, min_micros));
        });
  }
  Schema& opt_money(const char* key, std::optional<Money> T::*m, int64_t min_micros = 0) {
    return field(
        key,
        [m](const T& v, Json& j, const char* k) {
          if (v.*m) j[k] = (v.*m)->micros();
        },
        [m, min_micros](JsonReader& r, T& v, const char* k, const std::string&) {
          auto x = r.opt_i64(k, min_micros);
          if (x) v.*m = Money::micros(*x);
        });
  }
  Schema& str(const char* key, std::string T::*m, size_t max_len = 4096) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, max_len](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.str(k, max_len); });
  }
  // Optional on the wire: absent reads as `fallback` (always written).
  Schema& str_or(const char* key, std::string T::*m, std::string fallback, size_t max_len = 4096) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, fallback = std::move(fallback), max_len](JsonReader& r, T& v, const char* k, const std::string&) {
          v.*m = r.opt_str(k, max_len).value_or(fallback);
        });
  }
  // Optional on the wire and in the struct; nullopt is omitted.
  Schema& opt_str(const char* key, std::optional<std::string> T::*m, size_t max_len = 4096) {
    return field(
        key,
        [m](const T& v, Json& j, const char* k) {
          if (v.*m) j[k] = *(v.*m);
        },
        [m, max_len](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.opt_str(k, max_len); });
  }
  // An enum written as one of the names in `table` (every value the struct can hold must be in
  // it); any other string is refused, listing the names.
  template <typename E>
  Schema& enumeration(const char* key, E T::*m, std::initializer_list<std::pair<E, const char*>> table) {
    std::vector<std::pair<E, const char*>> names(table);
    std::string list;
    for (const auto& [e, name] : names) list += std::string(list.empty() ? "" : ", ") + "\"" + name + "\"";
    return field(
        key,
        [m, names](const T& v, Json& j, const char* k) {
          for (const auto& [e, name] : names) {
            if (e == v.*m) {
              j[k] = name;
              return;
            }
          }
          j[k] = nullptr;  // not in the table: a programming error, refused by decode()
        },
        [m, names, list](JsonReader& r, T& v, const char* k, const std::string&) {
          const std::string s = r.str(k, 64);
          if (!r.ok()) return;
          for (const auto& [e, name] : names) {
            if (s == name) {
              v.*m = e;
              return;
            }
          }
          r.fail(k, "must be one of " + list);
        });
  }
  Schema& boolean(const char* key, bool T::*m) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m](JsonReader& r, T& v, const char* k, const std::string&) { v.*m = r.boolean(k); });
  }
  // Optional on the wire: absent reads as `fallback` (always written).
  Schema& boolean_or(const char* key, bool T::*m, bool fallback) {
    return field(
        key, [m](const T& v, Json& j, const char* k) { j[k] = v.*m; },
        [m, fallback](JsonReader& r, T& v, const char* k, const std::string&) {
          v.*m = r.opt_bool(k).value_or(fallback);
        });
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
  // A nested document that may be absent: then the member keeps its default (always written).
  template <typename U>
  Schema& object_or(const char* key, U T::*m, const Schema<U>& sub) {
    return field(
        key, [m, &sub](const T& v, Json& j, const char* k) { j[k] = sub.encode(v.*m); },
        [m, &sub](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json* raw = r.opt_object(k);
          if (raw == nullptr || !r.ok()) return;
          auto d = sub.decode(*raw, where + "." + k);
          if (d) v.*m = std::move(*d);
          r.absorb(d.map([](const U&) {}));
        });
  }
  // A nested document optional in the struct; nullopt is omitted.
  template <typename U>
  Schema& opt_object(const char* key, std::optional<U> T::*m, const Schema<U>& sub) {
    return field(
        key,
        [m, &sub](const T& v, Json& j, const char* k) {
          if (v.*m) j[k] = sub.encode(*(v.*m));
        },
        [m, &sub](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json* raw = r.opt_object(k);
          if (raw == nullptr || !r.ok()) return;
          auto d = sub.decode(*raw, where + "." + k);
          if (d) v.*m = std::move(*d);
          r.absorb(d.map([](const U&) {}));
        });
  }
  // A required JSON object with a codec of its own (an embedded signed document, a raw object):
  // `dec` gets the object and its path ("<where>.<key>") and its error is kept as it is.
  template <typename U>
  Schema& object_with(const char* key, U T::*m, std::function<Json(const U&)> enc,
                      std::function<Result<U>(const Json&, const std::string& where)> dec) {
    return field(
        key, [m, enc = std::move(enc)](const T& v, Json& j, const char* k) { j[k] = enc(v.*m); },
        [m, dec = std::move(dec)](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json& raw = r.object(k);
          if (!r.ok()) return;
          auto d = dec(raw, where + "." + k);
          if (d) v.*m = std::move(*d);
          r.absorb(d.map([](const U&) {}));
        });
  }
  // An array of at most `max_len` items with a codec of their own; item i's path is "<key>[i]".
  template <typename U>
  Schema& array_with(const char* key, std::vector<U> T::*m, std::function<Json(const U&)> enc,
                     std::function<Result<U>(const Json&, const std::string& where)> dec, size_t max_len) {
    return field(
        key,
        [m, enc = std::move(enc)](const T& v, Json& j, const char* k) {
          Json arr = Json::array();
          for (const auto& item : v.*m) arr.push_back(enc(item));
          j[k] = std::move(arr);
        },
        [m, dec = std::move(dec), max_len](JsonReader& r, T& v, const char* k, const std::string& where) {
          const Json& raw = r.array(k, max_len);
          if (!r.ok()) return;
          std::vector<U> out;
          out.reserve(raw.size());
          for (size_t i = 0; i < raw.size() && r.ok(); ++i) {
            auto d = dec(raw[i], where + "." + k + "[" + std::to_string(i) + "]");
            if (d) out.push_back(std::move(*d));
            r.absorb(d.map([](const U&) {}));
          }
          if (r.ok()) v.*m = std::move(out);
        });
  }
  // An array of nested documents, at most `max_len`; item i's errors name "<key>[i]".
  template <typename U>
  Schema& array(const char* key, std::vector<U> T::*m, const Schema<U>& sub, size_t max_len) {
    return array_with<U>(
        key, m, [&sub](const U& item) { return sub.encode(item); },
        [&sub](const Json& j, const std::string& where) { return sub.decode(j, where); }, max_len);
  }
  // A field with a codec of its own (a money amount, an enum, a signed document): `enc` gives
  // its JSON, `dec` reads it from the reader (reporting problems through it).
  Schema& custom(const char* key, std::function<Json(const T&)> enc,
                 std::function<void(JsonReader&, T&, const char* key)> dec) {
    return field(
        key, [enc = std::move(enc)](const T& v, Json& j, const char* k) { j[k] = enc(v); },
        [dec = std::move(dec)](JsonReader& r, T& v, const char* k, const std::string&) { dec(r, v, k); });
  }
  // As custom(), but `enc` may give nullopt: the field is then left out.
  Schema& custom_opt(const char* key, std::function<std::optional<Json>(const T&)> enc,
                     std::function<void(JsonReader&, T&, const char* key)> dec) {
    return field(
        key,
        [enc = std::move(enc)](const T& v, Json& j, const char* k) {
          auto x = enc(v);
          if (x) j[k] = std::move(*x);
        },
        [dec = std::move(dec)](JsonReader& r, T& v, const char* k, const std::string&) { dec(r, v, k); });
  }
  // A rule over the decoded document (cross-field, identifiers), run once every field was read.
  // It returns "" when the document is fine, else the rest of the message after the document's
  // path: ".server: not an account id" or ": period out of range".
  Schema& check(std::function<std::string(const T&)> rule) {
    checks_.push_back(std::move(rule));
    return *this;
  }

  // A step run after the checks, in order: it may fill derived members (a verified document's
  // contents) and its error is returned as it is (its code and message, e.g. kUnauthenticated).
  Schema& verify(std::function<Status(T&)> step) {
    verifies_.push_back(std::move(step));
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
    for (const auto& step : verifies_) XOP_RETURN_IF_ERROR(step(v));
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
  std::vector<std::function<Status(T&)>> verifies_;
};

}  // namespace xop
