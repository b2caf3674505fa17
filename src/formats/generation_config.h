// GenerationConfig: the sampling defaults a checkpoint ships in `generation_config.json`.
//
// Every field is optional: a key that is absent or null stays unset, and the caller falls back
// to its own default (a request's explicit value wins over all of these). R1, for example,
// ships {"bos_token_id": 0, "eos_token_id": 1, "do_sample": true, "temperature": 0.6,
// "top_p": 0.95}. Unknown keys are ignored.
//
// Errors (InvalidArgument) start with the file name and name the field: a wrong JSON type or
// a value outside its range (temperature < 0, top_p outside (0, 1], ...).
//
// Thread safety: plain values.
#ifndef DSINFER_FORMATS_GENERATION_CONFIG_H_
#define DSINFER_FORMATS_GENERATION_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dsinfer {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // eos_token_id: an int or a list; empty if unset
  std::optional<int64_t> pad_token_id;
  std::optional<double> temperature;  // >= 0
  std::optional<double> top_p;        // (0, 1]
  std::optional<int64_t> top_k;       // >= 0; 0 disables
  std::optional<bool> do_sample;
  std::optional<int64_t> max_length;         // > 0, prompt + generated tokens
  std::optional<int64_t> max_new_tokens;     // > 0
  std::optional<double> repetition_penalty;  // > 0; 1 disables
};

// `file_name` prefixes every error message.
StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text,
                                                 std::string_view file_name);

// Reads `dir`/generation_config.json; nullopt when the checkpoint has none.
StatusOr<std::optional<GenerationConfig>> LoadGenerationConfig(const std::string& dir);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_GENERATION_CONFIG_H_
