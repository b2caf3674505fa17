#include "formats/gguf_value.h"

#include <bit>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "base/utf8.h"

namespace dsinfer {
namespace {

static_assert(std::variant_size_v<GgufValue::Storage> == kGgufTypeCount,
              "variant alternatives must follow the GGUF type ids");
static_assert(std::is_same_v<std::variant_alternative_t<9, GgufValue::Storage>, GgufArray>);
static_assert(std::is_same_v<std::variant_alternative_t<12, GgufValue::Storage>, double>);

template <typename T>
constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

}  // namespace

std::string_view GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "UINT8";
    case GgufType::kInt8: return "INT8";
    case GgufType::kUint16: return "UINT16";
    case GgufType::kInt16: return "INT16";
    case GgufType::kUint32: return "UINT32";
    case GgufType::kInt32: return "INT32";
    case GgufType::kFloat32: return "FLOAT32";
    case GgufType::kBool: return "BOOL";
    case GgufType::kString: return "STRING";
    case GgufType::kArray: return "ARRAY";
    case GgufType::kUint64: return "UINT64";
    case GgufType::kInt64: return "INT64";
    case GgufType::kFloat64: return "FLOAT64";
  }
  return "UNKNOWN";
}

size_t GgufTypeFixedSize(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool: return 1;
    case GgufType::kUint16:
    case GgufType::kInt16: return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32: return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64: return 8;
    case GgufType::kString:
    case GgufType::kArray: return 0;
  }
  return 0;
}

GgufValue GgufValue::StringArray(const std::vector<std::string>& items) {
  GgufArray array{.element_type = GgufType::kString, .items = {}};
  array.items.reserve(items.size());
  for (const auto& s : items) array.items.push_back(String(s));
  return Array(std::move(array));
}

bool GgufValue::is_integer() const {
  return std::visit([](const auto& v) { return kIsInteger<std::decay_t<decltype(v)>>; }, storage_);
}

std::optional<uint64_t> GgufValue::AsUint64() const {
  return std::visit(
      [](const auto& v) -> std::optional<uint64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (kIsInteger<T>) {
          if constexpr (std::is_signed_v<T>) {
            if (v < 0) return std::nullopt;
          }
          return static_cast<uint64_t>(v);
        }
        return std::nullopt;
      },
      storage_);
}

std::optional<int64_t> GgufValue::AsInt64() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (kIsInteger<T>) {
          if constexpr (std::is_same_v<T, uint64_t>) {
            if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          }
          return static_cast<int64_t>(v);
        }
        return std::nullopt;
      },
      storage_);
}

std::optional<double> GgufValue::AsDouble() const {
  return std::visit(
      [](const auto& v) -> std::optional<double> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (kIsInteger<T> || std::is_floating_point_v<T>) return static_cast<double>(v);
        return std::nullopt;
      },
      storage_);
}

std::optional<bool> GgufValue::AsBool() const {
  if (const bool* b = std::get_if<bool>(&storage_)) return *b;
  return std::nullopt;
}

std::string GgufValue::ToDisplayString(size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return fmt::format("\"{}\"", EscapeForMessage(v, 120));
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          std::string out =
              fmt::format("[{} x {}] [", GgufTypeName(v.element_type), v.items.size());
          for (size_t i = 0; i < v.items.size() && i < max_items; ++i) {
            if (i > 0) out += ", ";
            out += v.items[i].ToDisplayString(max_items);
          }
          if (v.items.size() > max_items) out += ", ...";
          return out + "]";
        } else {
          return fmt::format("{}", v);  // floats in their shortest round-trip form
        }
      },
      storage_);
}

bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.element_type == b.element_type && a.items == b.items;
}

bool operator==(const GgufValue& a, const GgufValue& b) {
  if (a.storage_.index() != b.storage_.index()) return false;
  return std::visit(
      [&](const auto& va) {
        using T = std::decay_t<decltype(va)>;
        const T& vb = std::get<T>(b.storage_);
        if constexpr (std::is_floating_point_v<T>) {
          // Bitwise for floats: NaN payloads and -0.0 must survive a round trip.
          using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
          return std::bit_cast<Bits>(va) == std::bit_cast<Bits>(vb);
        } else {
          return va == vb;
        }
      },
      a.storage_);
}

}  // namespace dsinfer
