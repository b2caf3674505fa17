// "GGUF and tokenizer.json give the same tokenizer": a tokenizer.json is converted into GGUF
// tokenizer metadata the way llama.cpp's convert_hf_to_gguf.py does (LlamaCppConversion
// below), written to a file, loaded back through LoadTokenizer, and the two tokenizers must
// give identical ids and identical decoded text on the reference corpus, with parse_special
// on and off.
//
// One difference is the converter's and cannot be undone by a loader: GGUF has one "control"
// type for special tokens, and convert_hf_to_gguf.py also gives it to non-special added
// tokens that look special (<｜User｜>, <｜fim▁hole｜>, ... in DeepSeek-V3). With parse_special
// off such text is plain text in the GGUF tokenizer (as in llama.cpp) but one token in the
// tokenizer.json one (as in HF). The test checks that this is the only difference: with
// parse_special off the GGUF tokenizer must equal the tokenizer.json one with those tokens
// marked special, and equal the plain one on every line that holds none of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "tiny_tokenizer.h"
#include "tokenizer/load_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {
namespace {

using Json = nlohmann::json;

std::string RepoDir() { return std::string(DSINFER_TEST_DATA_DIR) + "/../.."; }

// llama.cpp's gguf.TokenType values.
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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

// What convert_hf_to_gguf.py writes for a byte-level BPE model (get_vocab_base plus
// gguf.SpecialVocab): ids with no token become "[PAD<id>]" of type unused; added tokens are
// control when special or special-looking, else user-defined with U+2581 turned into a
// space; merges as "left right". `vocab_size` is config.json's (the embedding rows).
struct LlamaCppConversion {
  std::vector<std::string> tokens;
  GgufArray types{.element_type = GgufType::kInt32};
  std::vector<std::string> merges;
  std::vector<std::string> promoted;  // non-special added tokens written as control

  LlamaCppConversion(const Json& tokenizer, int64_t vocab_size) {
    std::map<int64_t, std::string> by_id;
    for (const auto& [text, id] : tokenizer["model"]["vocab"].items())
      by_id[id.get<int64_t>()] = text;
    std::map<int64_t, const Json*> added;
    for (const Json& token : tokenizer["added_tokens"]) {
      by_id[token["id"].get<int64_t>()] = token["content"].get<std::string>();
      added[token["id"].get<int64_t>()] = &token;
    }
    for (int64_t id = 0; id < vocab_size; ++id) {
      const auto it = by_id.find(id);
      if (it == by_id.end()) {
        tokens.push_back("[PAD" + std::to_string(id) + "]");
        types.items.push_back(GgufValue::I32(kUnused));
        continue;
      }
      std::string text = it->second;
      int32_t type = kNormal;
      if (const auto a = added.find(id); a != added.end()) {
        const bool special = a->second->value("special", false);
        if (special || LooksSpecial(text)) {
          type = kControl;
          if (!special) promoted.push_back(text);
        } else {
          type = kUserDefined;
          ReplaceAll(&text, "\xE2\x96\x81", " ");
        }
      }
      tokens.push_back(std::move(text));
      types.items.push_back(GgufValue::I32(type));
    }
    for (const Json& m : tokenizer["model"]["merges"]) {
      merges.push_back(m.is_string() ? m.get<std::string>()
                                     : m[0].get<std::string>() + " " + m[1].get<std::string>());
    }
  }
};

// The id of tokenizer_config.json's `key` token ("text" or {"content": "text"}).
std::optional<uint32_t> ConfigTokenId(const Json& tokenizer, const Json& config, const char* key) {
  if (!config.contains(key) || config[key].is_null()) return std::nullopt;
  const Json& v = config[key];
  const std::string content =
      v.is_string() ? v.get<std::string>() : v["content"].get<std::string>();
  for (const Json& token : tokenizer["added_tokens"]) {
    if (token["content"] == content) return token["id"].get<uint32_t>();
  }
  return std::nullopt;
}

// Writes the conversion of `tokenizer` (+ `config`) as a GGUF file at `path`.
Status WriteGguf(const Json& tokenizer, const Json& config, const LlamaCppConversion& conv,
                 std::string_view pre, const std::string& path) {
  GgufWriter w;
  const auto add = [&](std::string_view key, GgufValue value) {
    return w.AddKeyValue(std::string(key), std::move(value));
  };
  DSI_RETURN_IF_ERROR(add(gguf::kKeyTokenizerModel, GgufValue::String("gpt2")));
  DSI_RETURN_IF_ERROR(add(gguf::kKeyTokenizerPre, GgufValue::String(std::string(pre))));
  DSI_RETURN_IF_ERROR(add(gguf::kKeyTokens, GgufValue::StringArray(conv.tokens)));
  DSI_RETURN_IF_ERROR(add(gguf::kKeyTokenType, GgufValue::Array(conv.types)));
  DSI_RETURN_IF_ERROR(add(gguf::kKeyMerges, GgufValue::StringArray(conv.merges)));
  if (const auto bos = ConfigTokenId(tokenizer, config, "bos_token")) {
    DSI_RETURN_IF_ERROR(add(gguf::kKeyBosTokenId, GgufValue::U32(*bos)));
  }
  if (const auto eos = ConfigTokenId(tokenizer, config, "eos_token")) {
    DSI_RETURN_IF_ERROR(add(gguf::kKeyEosTokenId, GgufValue::U32(*eos)));
  }
  for (const auto& [key, name] : {std::pair{gguf::kKeyAddBosToken, "add_bos_token"},
                                  std::pair{gguf::kKeyAddEosToken, "add_eos_token"}}) {
    if (config.contains(name) && config[name].is_boolean()) {
      DSI_RETURN_IF_ERROR(add(key, GgufValue::Bool(config[name].get<bool>())));
    }
  }
  if (config.contains("chat_template") && config["chat_template"].is_string()) {
    DSI_RETURN_IF_ERROR(
        add(gguf::kKeyChatTemplate, GgufValue::String(config["chat_template"].get<std::string>())));
  }
  return w.WriteFile(path);
}

// The corpus the reference test uses, or (when scripts/fetch-test-assets.sh has not run) a
// few lines covering the same ground.
std::vector<std::string> Corpus() {
  std::vector<std::string> lines;
  std::ifstream in(RepoDir() + "/.cache/tokenizer-corpus.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
  if (lines.empty()) {
    lines = {
        "Hello, World! It's 2024.\n\n  done", "\xE4\xBD\xA0\xE5\xA5\xBD 12345678",
        std::string("<\xEF\xBD\x9CUser\xEF\xBD\x9C>hi<\xEF\xBD\x9C") + "Assistant\xEF\xBD\x9C>",
        "<|bos|>x<|eos|> <tool> a<sw>b <sw> \xFF\xFE", "don't  STOP\r\n\t\xC2\xA0x"};
  }
  return lines;
}

bool ContainsAny(std::string_view text, const std::vector<std::string>& needles) {
  for (const std::string& n : needles) {
    if (text.find(n) != std::string_view::npos) return true;
  }
  return false;
}

// `plain` is the tokenizer.json tokenizer; `promoted` the same with conv.promoted special.
void ExpectSameTokenizer(const Tokenizer& gguf, const Tokenizer& plain, const Tokenizer& promoted,
                         const std::vector<std::string>& promoted_texts) {
  const std::vector<std::string> corpus = Corpus();
  int mismatches = 0;
  for (size_t i = 0; i < corpus.size() && mismatches < 5; ++i) {
    const std::string& text = corpus[i];
    const std::vector<int32_t> special_ids = *plain.Encode(text, {.parse_special = true});
    const std::vector<int32_t> plain_ids = *plain.Encode(text, {});
    const std::vector<int32_t> gguf_special = *gguf.Encode(text, {.parse_special = true});
    const std::vector<int32_t> gguf_plain = *gguf.Encode(text, {});
    const bool ok = gguf_special == special_ids && gguf_plain == *promoted.Encode(text, {}) &&
                    (ContainsAny(text, promoted_texts) || gguf_plain == plain_ids) &&
                    *gguf.Decode(special_ids) == *plain.Decode(special_ids) &&
                    *gguf.DecodeBytes(plain_ids) == *plain.DecodeBytes(plain_ids) &&
                    *gguf.Decode(special_ids, {.skip_special = true}) ==
                        *promoted.Decode(special_ids, {.skip_special = true});
    if (!ok) {
      ++mismatches;
      ADD_FAILURE() << "corpus line " << i + 1 << " differs: " << Json(text).dump();
    }
  }
  EXPECT_EQ(mismatches, 0) << "(stopped after 5)";
  for (int32_t id = 0; id < gguf.vocab_size(); ++id) {
    ASSERT_EQ(gguf.TokenBytes(id), plain.TokenBytes(id)) << "id " << id;
    ASSERT_EQ(gguf.IsSpecial(id), promoted.IsSpecial(id)) << "id " << id;
  }
  EXPECT_EQ(gguf.vocab_size(), plain.vocab_size());
  EXPECT_EQ(gguf.bos_id(), plain.bos_id());
  EXPECT_EQ(gguf.eos_id(), plain.eos_id());
  EXPECT_EQ(gguf.add_bos(), plain.add_bos());
  EXPECT_EQ(gguf.add_eos(), plain.add_eos());
  EXPECT_EQ(gguf.chat_template(), plain.chat_template());
}

// Converts, writes, loads; then compares. `vocab_size` as in config.json.
void CheckParity(const std::string& json_text, const std::string& config_text, int64_t vocab_size,
                 std::string_view pre) {
  const Json tokenizer = Json::parse(json_text);
  const Json config = Json::parse(config_text);
  const LlamaCppConversion conv(tokenizer, vocab_size);
  const std::string path = ::testing::TempDir() + "/gguf_json_parity_" + std::string(pre) + ".gguf";
  ASSERT_TRUE(WriteGguf(tokenizer, config, conv, pre, path).ok());
  StatusOr<Tokenizer> gguf = LoadTokenizer(path);
  std::remove(path.c_str());
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();

  StatusOr<Tokenizer> plain = LoadHfTokenizer(json_text, config_text);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  StatusOr<TokenizerSpec> spec = ParseTokenizerJson(json_text, "tokenizer.json");
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE(ApplyTokenizerConfig(config_text, "tokenizer_config.json", &*spec).ok());
  for (AddedToken& token : spec->added_tokens) {
    if (std::find(conv.promoted.begin(), conv.promoted.end(), token.content) !=
        conv.promoted.end()) {
      token.special = true;
    }
  }
  StatusOr<Tokenizer> promoted = Tokenizer::Create(std::move(*spec));
  ASSERT_TRUE(promoted.ok());
  ExpectSameTokenizer(*gguf, *plain, *promoted, conv.promoted);
}

TEST(GgufJsonParity, DeepSeekV3) {
  const std::string dir = RepoDir() + "/.cache/deepseek-v3";
  const std::optional<std::string> json = ReadText(dir + "/tokenizer.json");
  const std::optional<std::string> config = ReadText(dir + "/tokenizer_config.json");
  if (!json || !config) GTEST_SKIP() << "run scripts/fetch-test-assets.sh for " << dir;
  // 129280: tests/data/hf/deepseek_v3/config.json's vocab_size (465 ids past the tokenizer's).
  CheckParity(*json, *config, 129280, "deepseek-v3");
}

// The tiny tokenizer with the pre_tokenizer Qwen2's or Llama 3's tokenizer.json has, written
// out as those files write it (so a slip in the GGUF presets shows). Its added tokens lose
// lstrip / rstrip / single_word: GGUF has no field for them (tokenizer_files_test.cc).
std::string TinyWithPreTokenizer(std::string_view split_regex, bool ignore_merges) {
  Json j = testing::TinyTokenizerJson();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"},
                           {"pattern", {{"Regex", split_regex}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                          {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", false},
                           {"use_regex", false}}}}};
  if (ignore_merges) j["model"]["ignore_merges"] = true;
  for (Json& token : j["added_tokens"]) {
    token["lstrip"] = token["rstrip"] = token["single_word"] = false;
  }
  return j.dump();
}

TEST(GgufJsonParity, TinyQwen2AndLlamaBpePresets) {
  const std::string config = testing::TinyTokenizerConfig();
  CheckParity(TinyWithPreTokenizer("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                   "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!"
                                   "\\S)|\\s+",
                                   false),
              config, 404, "qwen2");
  CheckParity(TinyWithPreTokenizer("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                   "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+"
                                   "(?!\\S)|\\s+",
                                   true),
              config, 404, "llama-bpe");
}

}  // namespace
}  // namespace dsinfer::tokenizer
