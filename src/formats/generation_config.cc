#include "formats/generation_config.h"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/json_fields.h"
#include "platform/read_file.h"

namespace dsinfer {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxGenerationConfigBytes = size_t{1} << 20;

Status Validate(const JsonFields& r, const GenerationConfig& g) {
  if (g.bos_token_id && *g.bos_token_id < 0) {
    return r.Error("bos_token_id", fmt::format("{} is negative", *g.bos_token_id));
  }
  for (int64_t id : g.eos_token_ids) {
    if (id < 0) return r.Error("eos_token_id", fmt::format("{} is negative", id));
  }
  if (g.temperature && !(*g.temperature >= 0)) {
    return r.Error("temperature", fmt::format("{} is negative", *g.temperature));
  }
  if (g.top_p && !(*g.top_p > 0 && *g.top_p <= 1)) {
    return r.Error("top_p", fmt::format("{} is not in (0, 1]", *g.top_p));
  }
  if (g.top_k && *g.top_k < 0) return r.Error("top_k", fmt::format("{} is negative", *g.top_k));
  if (g.max_length && *g.max_length <= 0) {
    return r.Error("max_length", fmt::format("{} is not positive", *g.max_length));
  }
  if (g.max_new_tokens && *g.max_new_tokens <= 0) {
    return r.Error("max_new_tokens", fmt::format("{} is not positive", *g.max_new_tokens));
  }
  if (g.repetition_penalty && !(*g.repetition_penalty > 0)) {
    return r.Error("repetition_penalty", fmt::format("{} is not positive", *g.repetition_penalty));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text,
                                                 std::string_view file_name) {
  DSI_ASSIGN_OR_RETURN(const Json root, ParseJsonObject(json_text, file_name));
  // Absent and null both leave a field unset.
  const JsonFields r(root, file_name, NullIs::kAbsent);
  GenerationConfig g;
  DSI_RETURN_IF_ERROR(r.Int("bos_token_id", &g.bos_token_id));
  DSI_RETURN_IF_ERROR(r.TokenIds("eos_token_id", &g.eos_token_ids));
  DSI_RETURN_IF_ERROR(r.Int("pad_token_id", &g.pad_token_id));
  DSI_RETURN_IF_ERROR(r.Double("temperature", &g.temperature));
  DSI_RETURN_IF_ERROR(r.Double("top_p", &g.top_p));
  DSI_RETURN_IF_ERROR(r.Int("top_k", &g.top_k));
  DSI_RETURN_IF_ERROR(r.Bool("do_sample", &g.do_sample));
  DSI_RETURN_IF_ERROR(r.Int("max_length", &g.max_length));
  DSI_RETURN_IF_ERROR(r.Int("max_new_tokens", &g.max_new_tokens));
  DSI_RETURN_IF_ERROR(r.Double("repetition_penalty", &g.repetition_penalty));
  DSI_RETURN_IF_ERROR(Validate(r, g));
  return g;
}

StatusOr<std::optional<GenerationConfig>> LoadGenerationConfig(const std::string& dir) {
  const std::string path =
      dir + (dir.empty() || dir.ends_with('/') ? "" : "/") + "generation_config.json";
  if (!FileExists(path)) return std::optional<GenerationConfig>();
  DSI_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, kMaxGenerationConfigBytes));
  DSI_ASSIGN_OR_RETURN(GenerationConfig config, ParseGenerationConfig(text, path));
  return std::optional<GenerationConfig>(std::move(config));
}

}  // namespace dsinfer
