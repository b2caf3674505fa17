// RequestFields: typed reads of request fields with OpenAI-worded errors.
#include "server/request_fields.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace dsinfer::server {

std::string DescribeValue(const Json& value) {
  constexpr size_t kMaxBytes = 60;
  // Depth is bounded before parsing (openai_request.cc), so dump() cannot recurse far.
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxBytes) {
    // Cut on a character boundary: never before a UTF-8 continuation byte.
    size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "...";
  }
  return text;
}

std::optional<int64_t> IntegerValue(const Json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return value.get<int64_t>();
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    // 2^63 is the first double past int64's range.
    if (std::isfinite(d) && std::floor(d) == d && d >= -9.2233720368547758e18 &&
        d < 9.2233720368547758e18) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

ApiError TypeError(std::string_view path, std::string_view expected, const Json& got) {
  return BadRequest(fmt::format("'{}' must be {}, got {}", path, expected, DescribeValue(got)),
                    std::string(path));
}

ApiError FieldError(std::string_view path, std::string_view what) {
  return BadRequest(fmt::format("'{}' {}", path, what), std::string(path));
}

const Json* RequestFields::Find(std::string_view key) const {
  const auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

MaybeError RequestFields::Number(std::string_view key, double lo, double hi, bool lo_open,
                                 float* out) const {
  const Json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) return TypeError(Path(key), "a number", *value);
  const double d = value->get<double>();
  const bool inside = (lo_open ? d > lo : d >= lo) && d <= hi;
  if (!inside) {
    return FieldError(Path(key), fmt::format("must be in {}{:g}, {:g}], got {}",
                                             lo_open ? "(" : "[", lo, hi, DescribeValue(*value)));
  }
  *out = static_cast<float>(d);
  return std::nullopt;
}

MaybeError RequestFields::Integer(std::string_view key, int64_t lo, int64_t hi,
                                  std::optional<int64_t>* out) const {
  const Json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  const std::optional<int64_t> n = IntegerValue(*value);
  if (!n.has_value()) return TypeError(Path(key), "an integer", *value);
  if (*n < lo || *n > hi) {
    return FieldError(Path(key), fmt::format("must be in [{}, {}], got {}", lo, hi, *n));
  }
  *out = n;
  return std::nullopt;
}

MaybeError RequestFields::Bool(std::string_view key, bool* out) const {
  const Json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return TypeError(Path(key), "a boolean", *value);
  *out = value->get<bool>();
  return std::nullopt;
}

MaybeError RequestFields::String(std::string_view key, std::optional<std::string>* out) const {
  const Json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return TypeError(Path(key), "a string", *value);
  *out = value->get<std::string>();
  return std::nullopt;
}

}  // namespace dsinfer::server
