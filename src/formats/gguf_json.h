// JSON renderings of GGUF metadata, for `dsinfer inspect --json` and tests.
#ifndef DSINFER_FORMATS_GGUF_JSON_H_
#define DSINFER_FORMATS_GGUF_JSON_H_

#include <cstddef>
#include <limits>

#include <nlohmann/json.hpp>

#include "formats/gguf_value.h"

namespace dsinfer {

// Scalars as JSON numbers/bools/strings (float32 widened exactly to double); arrays as lists,
// cut to their first `max_array_items` items. Strings that are not valid UTF-8 are escaped
// (\xNN) so the output is always valid JSON.
nlohmann::json GgufValueToJson(const GgufValue& value,
                               size_t max_array_items = std::numeric_limits<size_t>::max());

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_GGUF_JSON_H_
