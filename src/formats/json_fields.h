// JsonFields: typed, checked reads of the fields of one JSON object, plus the small helpers
// every JSON file format here needs (a message-safe rendering of a value, the location of a
// syntax error, a pre-pass that bounds nesting and refuses duplicate keys, integer
// conversion). Used by config.json, generation_config.json, the safetensors header and
// model.safetensors.index.json.
//
// Contract:
//  * The JSON is untrusted. Nothing here throws: every nlohmann call used is a non-throwing
//    one, and every defect comes back as a Status.
//  * No DOM is built before JsonLimitsViolation has passed the text: nlohmann's DOM parser
//    keeps a pointer per open container however deep (even when a parse callback discards
//    it), so 100 MiB of "[[[[..." would cost ~800 MB, and dump() and copies of the result
//    recurse once per level.
//  * An absent key leaves the output untouched, so an output's initial value is its default.
//  * A present key of the wrong JSON type is InvalidArgument, worded
//    "FILE: PREFIXKEY: must be EXPECTED, got VALUE", where PREFIX names the enclosing object
//    ("rope_scaling.") and VALUE is DescribeJson's rendering.
//  * A present null is read by the NullIs policy (see there). Plain outputs (int64_t, double,
//    bool, std::string) reject it; std::optional outputs and the *OrNull / list getters take it
//    as "none".
//
// Thread safety: a JsonFields only reads; it refers to its object and file name, which must
// outlive it.
#ifndef DSINFER_FORMATS_JSON_FIELDS_H_
#define DSINFER_FORMATS_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace dsinfer {

// A short, printable rendering of an untrusted value for an error message: its JSON text
// (escaped, cut at 80 bytes), or "array of 12 items" for a container of more than four.
std::string DescribeJson(const nlohmann::json& value);

// Where and why `text` stops being JSON: "not valid JSON (at line 1, column 9: syntax error
// ...)". A second, SAX-only pass, because nlohmann's non-throwing parse only says that it failed.
std::string JsonSyntaxError(std::string_view text);

// What the SAX pre-pass JsonLimitsViolation enforces.
struct JsonLimits {
  // Containers may open at depths 0 .. max_depth - 1, the top-level value being depth 0: 1
  // allows a flat object, 3 an object of objects of arrays.
  int max_depth = 64;
  // A key repeated within one object is an error (nlohmann, like Python, keeps the last).
  bool unique_keys = false;
};

// One SAX pass over `text` (valid UTF-8) that stops at the first breach of `limits` and
// describes it as a phrase that follows a subject ("header ", "FILE: "): "nests deeper than 3
// levels", "has the key 'a' twice in 'weight_map'". Empty when there is none, and also at a
// syntax error, which is left to the parse that follows (see JsonSyntaxError). Memory is
// O(max_depth) plus the keys of the open objects when unique_keys is set.
std::string JsonLimitsViolation(std::string_view text, const JsonLimits& limits);

// An integer-valued number that fits int64, or nullopt. Integral floats count (Python writes
// 4096, some tools 4096.0).
std::optional<int64_t> JsonInt64(const nlohmann::json& value);

// A non-negative JSON integer, or nullopt for anything else (negative, any float, not a
// number). Stricter than JsonInt64: the safetensors format writes offsets as integers.
std::optional<uint64_t> JsonUint64(const nlohmann::json& value);

// Parses a whole file that must hold one JSON object. Errors are InvalidArgument and start
// with `file`: not valid UTF-8 (with the offset), a breach of `limits`, not valid JSON (with
// the line and column), or not a JSON object.
StatusOr<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view file,
                                         const JsonLimits& limits = {});

// How a present JSON null is read.
enum class NullIs {
  kValue,   // a value of its own: HF's None (config.json). Plain outputs reject it.
  kAbsent,  // the same as an absent key (generation_config.json): every output stays untouched
};

class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string_view file, NullIs null = NullIs::kValue)
      : JsonFields(object, file, null, "") {}

  // The fields of `object`, the value of `key` in this one: errors name "PREFIXkey.field".
  JsonFields Nested(const nlohmann::json& object, std::string_view key) const;

  // The value of `key` (null included, whatever the NullIs policy), or nullptr if absent.
  const nlohmann::json* Find(std::string_view key) const;

  // "FILE: PREFIXKEY: what", InvalidArgument.
  Status Error(std::string_view key, std::string_view what) const;
  // Error(key, "must be EXPECTED, got DescribeJson(got)").
  Status TypeError(std::string_view key, std::string_view expected,
                   const nlohmann::json& got) const;

  // Plain outputs: null is an error (under NullIs::kValue).
  Status Int(std::string_view key, int64_t* out) const;
  Status Double(std::string_view key, double* out) const;
  Status Bool(std::string_view key, bool* out) const;
  Status String(std::string_view key, std::string* out) const;

  // Optional outputs: null -> nullopt.
  Status Int(std::string_view key, std::optional<int64_t>* out) const;
  Status Double(std::string_view key, std::optional<double>* out) const;
  Status Bool(std::string_view key, std::optional<bool>* out) const;

  // null -> 0, for counts where HF's None means "none of them".
  Status CountOrNull(std::string_view key, int64_t* out) const;
  // null -> empty.
  Status StringOrNull(std::string_view key, std::string* out) const;

  // Lists replace the output whole; null -> empty.
  Status StringList(std::string_view key, std::vector<std::string>* out) const;
  // An int or a list of ints (config.json's eos_token_id).
  Status TokenIds(std::string_view key, std::vector<int64_t>* out) const;

 private:
  JsonFields(const nlohmann::json& object, std::string_view file, NullIs null, std::string prefix)
      : object_(object), file_(file), null_(null), prefix_(std::move(prefix)) {}

  // Find under the NullIs policy: nullptr also for a null read as absent.
  const nlohmann::json* Lookup(std::string_view key) const;
  // `expected` for a getter that takes null: it names null only where a null reaches the type
  // check (NullIs::kValue).
  std::string OrNull(std::string_view expected) const;

  const nlohmann::json& object_;
  std::string_view file_;
  NullIs null_;
  std::string prefix_;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_JSON_FIELDS_H_
