// GgufValue: one GGUF metadata value of any of the 13 GGUF value types, arrays included
// (arrays of arrays too: the spec allows them and gguf-py writes them, although ggml's own
// reader refuses them).
//
// Values keep their exact wire type so that a file read and written again is byte-identical.
// The typed getters convert between integer widths only when the value fits.
#ifndef DSINFER_FORMATS_GGUF_VALUE_H_
#define DSINFER_FORMATS_GGUF_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dsinfer {

// Wire ids of GGUF value types (gguf.h `enum gguf_type`).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
inline constexpr uint32_t kGgufTypeCount = 13;

std::string_view GgufTypeName(GgufType type);  // "UINT32", "ARRAY", as gguf-py names them
// Bytes of one element on the wire; 0 for string and array (variable length).
size_t GgufTypeFixedSize(GgufType type);

class GgufValue;

struct GgufArray {
  GgufType element_type = GgufType::kUint8;
  std::vector<GgufValue> items;  // every item has element_type
};

class GgufValue {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;

  GgufValue() : storage_(uint8_t{0}) {}
  explicit GgufValue(Storage storage) : storage_(std::move(storage)) {}

  static GgufValue U8(uint8_t v) { return GgufValue(Storage(v)); }
  static GgufValue I8(int8_t v) { return GgufValue(Storage(v)); }
  static GgufValue U16(uint16_t v) { return GgufValue(Storage(v)); }
  static GgufValue I16(int16_t v) { return GgufValue(Storage(v)); }
  static GgufValue U32(uint32_t v) { return GgufValue(Storage(v)); }
  static GgufValue I32(int32_t v) { return GgufValue(Storage(v)); }
  static GgufValue U64(uint64_t v) { return GgufValue(Storage(v)); }
  static GgufValue I64(int64_t v) { return GgufValue(Storage(v)); }
  static GgufValue F32(float v) { return GgufValue(Storage(v)); }
  static GgufValue F64(double v) { return GgufValue(Storage(v)); }
  static GgufValue Bool(bool v) { return GgufValue(Storage(v)); }
  static GgufValue String(std::string v) { return GgufValue(Storage(std::move(v))); }
  static GgufValue Array(GgufArray v) { return GgufValue(Storage(std::move(v))); }
  static GgufValue StringArray(const std::vector<std::string>& items);

  GgufType type() const { return static_cast<GgufType>(storage_.index()); }
  const Storage& storage() const { return storage_; }

  bool is_integer() const;
  // Any integer type whose value fits; nullopt otherwise (including for non-integers).
  std::optional<uint64_t> AsUint64() const;
  std::optional<int64_t> AsInt64() const;
  // Any integer or float type.
  std::optional<double> AsDouble() const;
  std::optional<bool> AsBool() const;
  const std::string* AsString() const { return std::get_if<std::string>(&storage_); }
  const GgufArray* AsArray() const { return std::get_if<GgufArray>(&storage_); }

  // Short human rendering: scalars in full, strings quoted, arrays as
  // "[INT32 x 129280] [1, 1, 1, ...]" with at most `max_items` items shown.
  std::string ToDisplayString(size_t max_items = 6) const;

  friend bool operator==(const GgufValue& a, const GgufValue& b);

 private:
  Storage storage_;
};

bool operator==(const GgufArray& a, const GgufArray& b);

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_GGUF_VALUE_H_
