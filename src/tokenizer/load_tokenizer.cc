#include "tokenizer/load_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "platform/read_file.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {
namespace {

// tokenizer.json of DeepSeek-V3 is 8 MB; Llama 3's 9 MB. Far above that is not a tokenizer.
constexpr size_t kMaxTokenizerJsonBytes = 256 << 20;

StatusOr<Tokenizer> LoadJson(const std::filesystem::path& json_path) {
  DSI_ASSIGN_OR_RETURN(const std::string json,
                       ReadFileToString(json_path.string(), kMaxTokenizerJsonBytes));
  const std::filesystem::path config_path = json_path.parent_path() / "tokenizer_config.json";
  std::optional<std::string> config;
  std::error_code ec;
  if (std::filesystem::is_regular_file(config_path, ec)) {
    DSI_ASSIGN_OR_RETURN(config, ReadFileToString(config_path.string()));
  }
  StatusOr<Tokenizer> tokenizer =
      LoadHfTokenizer(json, config ? std::optional<std::string_view>(*config) : std::nullopt);
  if (!tokenizer.ok()) return tokenizer.status().WithContext(json_path.parent_path().string());
  return tokenizer;
}

bool LooksLikeGguf(const std::filesystem::path& path) {
  if (path.extension() == ".gguf") return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof(magic)) && std::string_view(magic, sizeof(magic)) == "GGUF";
}

}  // namespace

StatusOr<Tokenizer> LoadTokenizer(const std::string& path) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    const std::filesystem::path json = p / "tokenizer.json";
    if (!std::filesystem::is_regular_file(json, ec)) {
      return NotFoundError(fmt::format("{}: no tokenizer.json in this directory", path));
    }
    return LoadJson(json);
  }
  if (!std::filesystem::exists(p, ec)) return NotFoundError(fmt::format("{}: no such file", path));
  if (LooksLikeGguf(p)) {
    DSI_ASSIGN_OR_RETURN(const GgufFile file, GgufFile::Open(path));
    return LoadGgufTokenizer(file);
  }
  return LoadJson(p);
}

}  // namespace dsinfer::tokenizer
