#include "formats/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/utf8.h"

namespace dsinfer {

using Json = nlohmann::json;

std::string DescribeJson(const Json& value) {
  if (value.is_structured() && value.size() > 4) {
    return fmt::format("{} of {} items", value.type_name(), value.size());
  }
  // `replace` only rules out a throw on invalid UTF-8; callers have checked the text already.
  return EscapeForMessage(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string JsonSyntaxError(std::string_view text) {
  struct Locator : nlohmann::json_sax<Json> {
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& error) override {
      const std::string_view what = error.what();
      const size_t at = what.find("at line");
      message = what.substr(at == std::string_view::npos ? 0 : at);
      return false;
    }
    std::string message;
  };
  Locator locator;
  Json::sax_parse(text.begin(), text.end(), &locator);
  return locator.message.empty() ? "not valid JSON" : "not valid JSON (" + locator.message + ")";
}

namespace {

// The SAX handler of JsonLimitsViolation: the stack of open containers, each with the key it
// opened under (for messages) and, for an object under unique_keys, the keys seen so far.
class LimitsChecker : public nlohmann::json_sax<Json> {
 public:
  explicit LimitsChecker(const JsonLimits& limits) : limits_(limits) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Open(/*is_object=*/true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(/*is_object=*/false); }
  bool end_array() override { return Close(); }
  bool key(string_t& key) override {
    Container& object = open_.back();
    if (limits_.unique_keys && !object.keys.insert(key).second) {
      violation_ = fmt::format("has the key '{}' twice", EscapeForMessage(key));
      if (!object.name.empty()) violation_ += fmt::format(" in '{}'", object.name);
      return false;
    }
    // Only a message ever shows it, cut at 80 bytes: keep no more, however long the key.
    last_key_.assign(key, 0, std::min<size_t>(key.size(), 81));
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // the DOM parse that follows reports it
  }

  const std::string& violation() const { return violation_; }

 private:
  struct Container {
    bool is_object;
    std::string name;  // the escaped key it opened under; empty at the top and in arrays
    std::set<std::string, std::less<>> keys;
  };

  bool Open(bool is_object) {
    if (open_.size() >= static_cast<size_t>(std::max(limits_.max_depth, 0))) {
      violation_ = fmt::format("nests deeper than {} levels", limits_.max_depth);
      return false;
    }
    const bool in_object = !open_.empty() && open_.back().is_object;
    open_.push_back(Container{.is_object = is_object,
                              .name = in_object ? EscapeForMessage(last_key_) : std::string(),
                              .keys = {}});
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  std::vector<Container> open_;
  std::string last_key_;
  std::string violation_;
};

}  // namespace

std::string JsonLimitsViolation(std::string_view text, const JsonLimits& limits) {
  LimitsChecker checker(limits);
  Json::sax_parse(text.begin(), text.end(), &checker);
  return checker.violation();
}

std::optional<int64_t> JsonInt64(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  } else if (value.is_number_integer()) {
    return value.get<int64_t>();
  } else if (value.is_number_float()) {
    const auto d = value.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 0x1p63) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> JsonUint64(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

StatusOr<Json> ParseJsonObject(std::string_view text, std::string_view file,
                               const JsonLimits& limits) {
  if (!IsValidUtf8(text)) {
    return InvalidArgumentError(fmt::format("{}: not valid UTF-8 (first bad byte at offset {})",
                                            file, FirstInvalidUtf8Offset(text)));
  }
  if (const std::string violation = JsonLimitsViolation(text, limits); !violation.empty()) {
    return InvalidArgumentError(fmt::format("{}: {}", file, violation));
  }
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return InvalidArgumentError(fmt::format("{}: {}", file, JsonSyntaxError(text)));
  }
  if (!root.is_object()) return InvalidArgumentError(fmt::format("{}: not a JSON object", file));
  return root;
}

JsonFields JsonFields::Nested(const Json& object, std::string_view key) const {
  return JsonFields(object, file_, null_, fmt::format("{}{}.", prefix_, key));
}

const Json* JsonFields::Find(std::string_view key) const {
  const auto it = object_.find(std::string(key));
  return it == object_.end() ? nullptr : &*it;
}

const Json* JsonFields::Lookup(std::string_view key) const {
  const Json* v = Find(key);
  return v != nullptr && null_ == NullIs::kAbsent && v->is_null() ? nullptr : v;
}

std::string JsonFields::OrNull(std::string_view expected) const {
  return null_ == NullIs::kValue ? fmt::format("{} or null", expected) : std::string(expected);
}

Status JsonFields::Error(std::string_view key, std::string_view what) const {
  return InvalidArgumentError(fmt::format("{}: {}{}: {}", file_, prefix_, key, what));
}

Status JsonFields::TypeError(std::string_view key, std::string_view expected,
                             const Json& got) const {
  return Error(key, fmt::format("must be {}, got {}", expected, DescribeJson(got)));
}

namespace {

std::optional<double> JsonDouble(const Json& value) {
  return value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt;
}
std::optional<bool> JsonBool(const Json& value) {
  return value.is_boolean() ? std::optional<bool>(value.get<bool>()) : std::nullopt;
}
std::optional<std::string> JsonString(const Json& value) {
  const auto* s = value.get_ptr<const std::string*>();
  return s != nullptr ? std::optional<std::string>(*s) : std::nullopt;
}

template <typename T>
constexpr bool kIsOptional = false;
template <typename T>
constexpr bool kIsOptional<std::optional<T>> = true;

// The one body of the typed getters: nothing for an absent `value` (nullptr), nullopt for a
// null when `out` is a std::optional, else `convert(*value)` or the type error.
template <typename T, typename Convert>
Status Store(const JsonFields& fields, std::string_view key, const Json* value, Convert convert,
             std::string_view expected, T* out) {
  if (value == nullptr) return Status::Ok();
  if constexpr (kIsOptional<T>) {
    if (value->is_null()) {
      out->reset();
      return Status::Ok();
    }
  }
  auto converted = convert(*value);
  if (!converted) return fields.TypeError(key, expected, *value);
  *out = std::move(*converted);
  return Status::Ok();
}

}  // namespace

Status JsonFields::Int(std::string_view key, int64_t* out) const {
  return Store(*this, key, Lookup(key), JsonInt64, "an integer", out);
}
Status JsonFields::Double(std::string_view key, double* out) const {
  return Store(*this, key, Lookup(key), JsonDouble, "a number", out);
}
Status JsonFields::Bool(std::string_view key, bool* out) const {
  return Store(*this, key, Lookup(key), JsonBool, "true or false", out);
}
Status JsonFields::String(std::string_view key, std::string* out) const {
  return Store(*this, key, Lookup(key), JsonString, "a string", out);
}

Status JsonFields::Int(std::string_view key, std::optional<int64_t>* out) const {
  return Store(*this, key, Lookup(key), JsonInt64, OrNull("an integer"), out);
}
Status JsonFields::Double(std::string_view key, std::optional<double>* out) const {
  return Store(*this, key, Lookup(key), JsonDouble, OrNull("a number"), out);
}
Status JsonFields::Bool(std::string_view key, std::optional<bool>* out) const {
  const std::string_view expected =
      null_ == NullIs::kValue ? "true, false or null" : "true or false";
  return Store(*this, key, Lookup(key), JsonBool, expected, out);
}

Status JsonFields::CountOrNull(std::string_view key, int64_t* out) const {
  std::optional<int64_t> value = *out;
  DSI_RETURN_IF_ERROR(Int(key, &value));
  *out = value.value_or(0);
  return Status::Ok();
}

Status JsonFields::StringOrNull(std::string_view key, std::string* out) const {
  std::optional<std::string> value = *out;
  DSI_RETURN_IF_ERROR(Store(*this, key, Lookup(key), JsonString, OrNull("a string"), &value));
  *out = value.value_or("");
  return Status::Ok();
}

Status JsonFields::StringList(std::string_view key, std::vector<std::string>* out) const {
  const Json* v = Lookup(key);
  if (v == nullptr) return Status::Ok();
  out->clear();
  if (v->is_null()) return Status::Ok();
  if (!v->is_array()) return TypeError(key, "a list of strings", *v);
  for (const auto& item : *v) {
    const auto* s = item.get_ptr<const std::string*>();
    if (s == nullptr) return TypeError(key, "a list of strings", *v);
    out->push_back(*s);
  }
  return Status::Ok();
}

Status JsonFields::TokenIds(std::string_view key, std::vector<int64_t>* out) const {
  const Json* v = Lookup(key);
  if (v == nullptr) return Status::Ok();
  out->clear();
  if (v->is_null()) return Status::Ok();
  const std::string_view expected = null_ == NullIs::kValue
                                        ? "an integer, a list of integers or null"
                                        : "an integer or a list of integers";
  if (const std::optional<int64_t> id = JsonInt64(*v)) {
    out->push_back(*id);
    return Status::Ok();
  }
  if (!v->is_array()) return TypeError(key, expected, *v);
  for (const auto& item : *v) {
    const std::optional<int64_t> id = JsonInt64(item);
    if (!id) return TypeError(key, expected, *v);
    out->push_back(*id);
  }
  return Status::Ok();
}

}  // namespace dsinfer
