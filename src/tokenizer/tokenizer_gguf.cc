#include "tokenizer/tokenizer_gguf.h"

#include <fmt/format.h>

#include "base/utf8.h"
#include "formats/gguf_names.h"
#include "tokenizer/tokenizer_gguf_metadata.h"

namespace dsinfer::tokenizer {
namespace {

// llama.cpp's llama_token_type values.
constexpr int64_t kTokenTypeControl = 3;
constexpr int64_t kTokenTypeUserDefined = 4;
// convert_hf_to_gguf.py fills ids the tokenizer lacks (config.json's vocab_size is larger)
// with "[PAD<id>]" of this type; they are not tokens, as in tokenizer.json (and llama.cpp
// decodes them to nothing), so they stay holes here.
constexpr int64_t kTokenTypeUnused = 5;

// The pieces of the Llama 3 / Qwen2 patterns, as their tokenizer.json files write them.
constexpr std::string_view kContractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
constexpr std::string_view kLlama3Tail =
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2Tail =
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)|\\s+";

Status KeyError(const GgufFile& file, std::string_view key, std::string_view what) {
  return InvalidArgumentError(fmt::format("{}: {}: {}", file.name(), key, what));
}

StatusOr<std::vector<std::string>> StringArray(const GgufFile& file, std::string_view key) {
  const GgufArray* array = file.GetArray(key);
  if (array == nullptr) return KeyError(file, key, "missing (or not an array)");
  std::vector<std::string> out;
  out.reserve(array->items.size());
  for (size_t i = 0; i < array->items.size(); ++i) {
    const std::string* s = array->items[i].AsString();
    if (s == nullptr) return KeyError(file, key, fmt::format("item {} is not a string", i));
    out.push_back(*s);
  }
  return out;
}

StatusOr<std::optional<int32_t>> OptionalId(const GgufFile& file, std::string_view key) {
  if (file.FindValue(key) == nullptr) return std::optional<int32_t>();
  const std::optional<int64_t> id = file.GetInt(key);
  if (!id || *id < 0 || *id > std::numeric_limits<int32_t>::max()) {
    return KeyError(file, key, "must be a token id");
  }
  return std::optional<int32_t>(static_cast<int32_t>(*id));
}

}  // namespace

StatusOr<std::vector<std::string>> PreTokenizerPatterns(std::string_view pre) {
  // llama.cpp writes these character classes as literal UTF-8; here they are \x{} escapes
  // so that no editor's Unicode normalisation can change them (Ω U+2126 is not Ω U+03A9).
  if (pre == "deepseek-v3") {
    return std::vector<std::string>{
        "\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}"
        "]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"};
  }
  if (pre == "deepseek-llm") {
    return std::vector<std::string>{
        "[\r\n]",
        "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-"
        "\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
        "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"
        "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-"
        "\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-"
        "\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-"
        "\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-"
        "\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
        "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-"
        "\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-"
        "\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}"
        "\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
        "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-"
        "\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-"
        "\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-"
        "\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-"
        "\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
        "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-"
        "\\x{118DF}\\x{1E900}-\\x{1E943}]+",
        "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
        "\\s+$",
        "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
        "\\p{N}+"};
  }
  if (pre == "deepseek-coder") {
    return std::vector<std::string>{"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                                    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
                                    "\\p{N}"};
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    return std::vector<std::string>{std::string(kContractions) + std::string(kQwen2Tail)};
  }
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    return std::vector<std::string>{std::string(kContractions) + std::string(kLlama3Tail)};
  }
  if (pre == "default" || pre == "gpt-2") return std::vector<std::string>{};  // ByteLevel's
  return UnimplementedError(
      fmt::format("tokenizer.ggml.pre '{}' is not supported", EscapeForMessage(pre)));
}

StatusOr<TokenizerSpec> ReadGgufTokenizerSpec(const GgufFile& file) {
  const std::optional<std::string_view> model = file.GetString(gguf::kKeyTokenizerModel);
  if (!model) return KeyError(file, gguf::kKeyTokenizerModel, "missing (or not a string)");
  if (IsNoVocabularyModel(*model)) {
    return FailedPreconditionError(
        fmt::format("{}: the model has no vocabulary ({} '{}'): give token ids, not text",
                    file.name(), gguf::kKeyTokenizerModel, *model));
  }
  if (*model != "gpt2") {
    return UnimplementedError(
        fmt::format("{}: {} '{}' is not supported (only gpt2: byte-level "
                    "BPE)",
                    file.name(), gguf::kKeyTokenizerModel, EscapeForMessage(*model)));
  }
  TokenizerSpec spec;
  DSI_ASSIGN_OR_RETURN(std::vector<std::string> tokens, StringArray(file, gguf::kKeyTokens));
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return KeyError(file, gguf::kKeyTokens, "too many tokens");
  }
  const GgufArray* types = file.GetArray(gguf::kKeyTokenType);
  if (types != nullptr && types->items.size() != tokens.size()) {
    return KeyError(file, gguf::kKeyTokenType,
                    fmt::format("has {} items for {} tokens", types->items.size(), tokens.size()));
  }
  for (size_t id = 0; id < tokens.size(); ++id) {
    std::optional<int64_t> type;
    if (types != nullptr) {
      type = types->items[id].AsInt64();
      if (!type) return KeyError(file, gguf::kKeyTokenType, fmt::format("item {}", id));
    }
    if (type == kTokenTypeUnused) continue;
    if (type == kTokenTypeControl || type == kTokenTypeUserDefined) {
      spec.added_tokens.push_back({.id = static_cast<int32_t>(id),
                                   .content = tokens[id],
                                   .special = type == kTokenTypeControl});
    }
    // Later duplicates win, as in tokenizer.json's vocab map.
    spec.model.vocab[std::move(tokens[id])] = static_cast<int32_t>(id);
  }
  DSI_ASSIGN_OR_RETURN(const std::vector<std::string> merges, StringArray(file, gguf::kKeyMerges));
  spec.model.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t space = merges[i].find(' ');
    if (space == std::string::npos || merges[i].find(' ', space + 1) != std::string::npos) {
      return KeyError(file, gguf::kKeyMerges,
                      fmt::format("item {} ('{}') must be two tokens separated by one space", i,
                                  EscapeForMessage(merges[i])));
    }
    spec.model.merges.emplace_back(merges[i].substr(0, space), merges[i].substr(space + 1));
  }
  const std::string_view pre = file.GetString(gguf::kKeyTokenizerPre).value_or("default");
  DSI_ASSIGN_OR_RETURN(const std::vector<std::string> patterns, PreTokenizerPatterns(pre));
  for (const std::string& pattern : patterns) {
    StatusOr<SplitRegex> regex = SplitRegex::Compile(pattern);
    if (!regex.ok()) return regex.status().WithContext(file.name());
    spec.pre_tokenizer.emplace_back(SplitStep{.regex = std::move(*regex)});
  }
  spec.pre_tokenizer.emplace_back(ByteLevelStep{.use_regex = patterns.empty()});
  spec.model.ignore_merges = pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3";

  DSI_ASSIGN_OR_RETURN(spec.bos_id, OptionalId(file, gguf::kKeyBosTokenId));
  DSI_ASSIGN_OR_RETURN(spec.eos_id, OptionalId(file, gguf::kKeyEosTokenId));
  spec.add_bos = file.GetBool(gguf::kKeyAddBosToken).value_or(false);
  spec.add_eos = file.GetBool(gguf::kKeyAddEosToken).value_or(false);
  spec.chat_template = std::string(file.GetString(gguf::kKeyChatTemplate).value_or(""));
  return spec;
}

StatusOr<Tokenizer> LoadGgufTokenizer(const GgufFile& file) {
  DSI_ASSIGN_OR_RETURN(TokenizerSpec spec, ReadGgufTokenizerSpec(file));
  StatusOr<Tokenizer> tokenizer = Tokenizer::Create(std::move(spec));
  if (!tokenizer.ok()) return tokenizer.status().WithContext(file.name());
  return tokenizer;
}

}  // namespace dsinfer::tokenizer
