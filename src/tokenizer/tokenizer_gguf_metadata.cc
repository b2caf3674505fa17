#include "tokenizer/tokenizer_gguf_metadata.h"

#include <deque>
#include <filesystem>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/gguf_names.h"
#include "platform/read_file.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {

namespace {

// llama.cpp's gguf.TokenType values.
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;

constexpr size_t kMaxTokenizerJsonBytes = 256 << 20;  // as load_tokenizer.cc

// convert_hf_to_gguf.py's chktxt (get_vocab_base_pre): the text whose tokens llama.cpp hashes
// to recognise a pre-tokenizer.
constexpr std::string_view kCheckText =
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\xF0\x9F\x9A\x80 (normal) \xF0\x9F"
    "\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F (multiple emojis concatenated) \xE2"
    "\x9C\x85 \xF0\x9F\xA6\x99\xF0\x9F\xA6\x99 3 33 333 3333 33333 333333 3333333 3333333"
    "3 3.3 3..3 3...3 \xE1\x9E\x80\xE1\x9E\xB6\xE1\x9E\x93\xE1\x9F\x8B\xE1\x9E\x8F\xE1"
    "\x9F\x82\xE1\x9E\x96\xE1\x9E\xB7\xE1\x9E\x9F\xE1\x9F\x81\xE1\x9E\x9F\xE1\x9E\xA2\xE1"
    "\x9E\xB6\xE1\x9E\x85\xF0\x9F\x98\x81 ?\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8"
    "apple"
    "\xE5\xB7\xA5\xE4\xBD\x9C"
    "1314151\xE5\xA4\xA9\xEF\xBD\x9E ------======= \xD0\xBD"
    "\xD0\xB5\xD1\x89\xD0\xBE \xD0\xBD\xD0\xB0 \xD0\x91\xD1\x8A\xD0\xBB\xD0\xB3\xD0\xB0"
    "\xD1\x80\xD1\x81\xD0\xBA\xD0\xB8 ''''''```````\"\"\"\"......!!!!!!?????? I've been '"
    "told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve"
    " a'lL";

// The presets in the order they are tried: the first whose pieces match wins.
constexpr std::string_view kPresets[] = {"deepseek-v3", "deepseek-llm", "deepseek-coder",
                                         "qwen2",       "llama-bpe",    "gpt-2"};

// The DeepSeek begin-of-sentence token (U+FF5C, U+2581), present in R1-Distill-Qwen's vocab.
constexpr std::string_view kDeepSeekBos =
    "<\xEF\xBD\x9C"
    "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";

// convert_hf_to_gguf.py's TextModel.does_token_look_special.
bool LooksSpecial(std::string_view t) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.starts_with(open) && t.ends_with(close);
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wrapped("<unused", ">");
}

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

StatusOr<std::vector<std::string>> Pieces(std::vector<PreTokenizerStep> steps) {
  DSI_ASSIGN_OR_RETURN(const PreTokenizer pre, PreTokenizer::Create(std::move(steps)));
  std::vector<std::string_view> views;
  std::deque<std::string> storage;
  DSI_RETURN_IF_ERROR(pre.Split(kCheckText, &views, &storage));
  return std::vector<std::string>(views.begin(), views.end());
}

// The steps ReadGgufTokenizerSpec builds for a preset.
StatusOr<std::vector<PreTokenizerStep>> PresetSteps(std::string_view pre) {
  DSI_ASSIGN_OR_RETURN(const std::vector<std::string> patterns, PreTokenizerPatterns(pre));
  std::vector<PreTokenizerStep> steps;
  for (const std::string& pattern : patterns) {
    DSI_ASSIGN_OR_RETURN(SplitRegex regex, SplitRegex::Compile(pattern));
    steps.emplace_back(SplitStep{.regex = std::move(regex)});
  }
  steps.emplace_back(ByteLevelStep{.use_regex = patterns.empty()});
  return steps;
}

// tokenizer_config.json's add_bos_token / add_eos_token, only where it sets them (llama.cpp
// writes the keys only then; absent, its loader applies the vocabulary type's default).
StatusOr<std::vector<GgufKeyValue>> AddTokenFlags(std::string_view config_text) {
  const nlohmann::json config = nlohmann::json::parse(config_text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgumentError("tokenizer_config.json: not a JSON object");
  }
  std::vector<GgufKeyValue> out;
  for (const auto& [key, name] : {std::pair{gguf::kKeyAddBosToken, "add_bos_token"},
                                  std::pair{gguf::kKeyAddEosToken, "add_eos_token"}}) {
    const auto it = config.find(name);
    if (it != config.end() && it->is_boolean()) {
      out.push_back({std::string(key), GgufValue::Bool(it->get<bool>())});
    }
  }
  return out;
}

}  // namespace

StatusOr<std::string> DetectGgufPre(const TokenizerSpec& spec) {
  DSI_ASSIGN_OR_RETURN(const std::vector<std::string> pieces, Pieces(spec.pre_tokenizer));
  for (std::string_view pre : kPresets) {
    DSI_ASSIGN_OR_RETURN(std::vector<PreTokenizerStep> steps, PresetSteps(pre));
    DSI_ASSIGN_OR_RETURN(const std::vector<std::string> preset, Pieces(std::move(steps)));
    if (preset != pieces) continue;
    if (pre == "qwen2") {
      for (const AddedToken& token : spec.added_tokens) {
        if (token.content == kDeepSeekBos) return std::string("deepseek-r1-qwen");
      }
    }
    return std::string(pre);
  }
  return NotFoundError(
      "tokenizer.json: its pre-tokenizer splits text like none of llama.cpp's presets that "
      "dsinfer knows (deepseek-v3, deepseek-llm, deepseek-coder, qwen2, llama-bpe, gpt-2)");
}

StatusOr<std::vector<GgufKeyValue>> TokenizerGgufMetadata(
    std::string_view tokenizer_json, std::optional<std::string_view> tokenizer_config,
    int64_t vocab_size, std::string pre) {
  DSI_ASSIGN_OR_RETURN(TokenizerSpec spec, ParseTokenizerJson(tokenizer_json, "tokenizer.json"));
  if (tokenizer_config) {
    DSI_RETURN_IF_ERROR(ApplyTokenizerConfig(*tokenizer_config, "tokenizer_config.json", &spec));
  }
  if (pre.empty()) {
    DSI_ASSIGN_OR_RETURN(pre, DetectGgufPre(spec));
  }

  // id -> (text, type), added tokens over the vocabulary's entry of the same id.
  std::map<int64_t, std::pair<std::string, int32_t>> by_id;
  for (const auto& [text, id] : spec.model.vocab) by_id[id] = {text, kNormal};
  for (const AddedToken& token : spec.added_tokens) {
    std::string text = token.content;
    int32_t type = kControl;
    if (!token.special && !LooksSpecial(text)) {
      type = kUserDefined;
      ReplaceAll(&text, "\xE2\x96\x81", " ");
    }
    by_id[token.id] = {std::move(text), type};
  }
  if (!by_id.empty() && by_id.rbegin()->first >= vocab_size) {
    return InvalidArgumentError(
        fmt::format("tokenizer.json: token id {} ('{}') is not below the model's vocab_size {}",
                    by_id.rbegin()->first, by_id.rbegin()->second.first, vocab_size));
  }
  std::vector<std::string> tokens;
  tokens.reserve(static_cast<size_t>(vocab_size));
  GgufArray types{.element_type = GgufType::kInt32};
  types.items.reserve(static_cast<size_t>(vocab_size));
  for (int64_t id = 0; id < vocab_size; ++id) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      tokens.push_back(fmt::format("[PAD{}]", id));
      types.items.push_back(GgufValue::I32(kUnused));
    } else {
      tokens.push_back(std::move(it->second.first));
      types.items.push_back(GgufValue::I32(it->second.second));
    }
  }
  std::vector<std::string> merges;
  merges.reserve(spec.model.merges.size());
  for (const auto& [left, right] : spec.model.merges) {
    std::string merge = left;
    merge.append(" ").append(right);
    merges.push_back(std::move(merge));
  }

  std::vector<GgufKeyValue> out;
  out.push_back({std::string(gguf::kKeyTokenizerModel), GgufValue::String("gpt2")});
  out.push_back({std::string(gguf::kKeyTokenizerPre), GgufValue::String(pre)});
  out.push_back({std::string(gguf::kKeyTokens), GgufValue::StringArray(tokens)});
  out.push_back({std::string(gguf::kKeyTokenType), GgufValue::Array(std::move(types))});
  out.push_back({std::string(gguf::kKeyMerges), GgufValue::StringArray(merges)});
  if (spec.bos_id) {
    out.push_back(
        {std::string(gguf::kKeyBosTokenId), GgufValue::U32(static_cast<uint32_t>(*spec.bos_id))});
  }
  if (spec.eos_id) {
    out.push_back(
        {std::string(gguf::kKeyEosTokenId), GgufValue::U32(static_cast<uint32_t>(*spec.eos_id))});
  }
  if (tokenizer_config) {
    DSI_ASSIGN_OR_RETURN(std::vector<GgufKeyValue> flags, AddTokenFlags(*tokenizer_config));
    for (GgufKeyValue& kv : flags) out.push_back(std::move(kv));
  }
  if (!spec.chat_template.empty()) {
    out.push_back({std::string(gguf::kKeyChatTemplate), GgufValue::String(spec.chat_template)});
  }
  return out;
}

StatusOr<std::optional<std::vector<GgufKeyValue>>> TokenizerGgufMetadataFromDir(
    const std::string& dir, int64_t vocab_size) {
  const std::filesystem::path json_path = std::filesystem::path(dir) / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(json_path, ec)) {
    return std::optional<std::vector<GgufKeyValue>>();
  }
  DSI_ASSIGN_OR_RETURN(const std::string json,
                       ReadFileToString(json_path.string(), kMaxTokenizerJsonBytes));
  const std::filesystem::path config_path = std::filesystem::path(dir) / "tokenizer_config.json";
  std::optional<std::string> config;
  if (std::filesystem::is_regular_file(config_path, ec)) {
    DSI_ASSIGN_OR_RETURN(config, ReadFileToString(config_path.string()));
  }
  StatusOr<std::vector<GgufKeyValue>> metadata = TokenizerGgufMetadata(
      json, config ? std::optional<std::string_view>(*config) : std::nullopt, vocab_size);
  if (!metadata.ok()) return metadata.status().WithContext(dir);
  return std::optional<std::vector<GgufKeyValue>>(std::move(*metadata));
}

std::vector<GgufKeyValue> NoVocabularyGgufMetadata() {
  return {{std::string(gguf::kKeyTokenizerModel), GgufValue::String("no_vocab")}};
}

bool IsNoVocabularyModel(std::string_view model) { return model == "no_vocab" || model == "none"; }

}  // namespace dsinfer::tokenizer
