#include "formats/gguf_json.h"

#include <string>
#include <type_traits>

#include "base/utf8.h"

namespace dsinfer {

nlohmann::json GgufValueToJson(const GgufValue& value, size_t max_array_items) {
  return std::visit(
      [&](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return IsValidUtf8(v) ? v : EscapeForMessage(v, v.size() * 4 + 4);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          nlohmann::json list = nlohmann::json::array();
          for (size_t i = 0; i < v.items.size() && i < max_array_items; ++i) {
            list.push_back(GgufValueToJson(v.items[i], max_array_items));
          }
          return list;
        } else if constexpr (std::is_same_v<T, float>) {
          return static_cast<double>(v);
        } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, int16_t> ||
                             std::is_same_v<T, int32_t>) {
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t> ||
                             std::is_same_v<T, uint32_t>) {
          return static_cast<uint64_t>(v);
        } else {
          return v;
        }
      },
      value.storage());
}

}  // namespace dsinfer
