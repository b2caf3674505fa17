// tokenizer.json -> GGUF tokenizer metadata (what `dsinfer convert` writes): the preset is
// recognised from how the pre-tokenizer splits llama.cpp's check text, and the GGUF written
// from the metadata loads as a tokenizer that encodes and decodes as the tokenizer.json one.
#include "tokenizer/tokenizer_gguf_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "tiny_tokenizer.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string TinyWith(std::string_view split_regex) {
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
  for (Json& token : j["added_tokens"]) {  // GGUF has no field for these
    token["lstrip"] = token["rstrip"] = token["single_word"] = false;
  }
  return j.dump();
}

std::string Pre(const std::string& json) {
  StatusOr<TokenizerSpec> spec = ParseTokenizerJson(json, "tokenizer.json");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  StatusOr<std::string> pre = DetectGgufPre(*spec);
  return pre.ok() ? *pre : pre.status().ToString();
}

// Writes the metadata as a GGUF file and loads its tokenizer.
StatusOr<Tokenizer> ThroughGguf(const std::vector<GgufKeyValue>& metadata,
                                const std::string& name) {
  GgufWriter w;
  for (const GgufKeyValue& kv : metadata) DSI_RETURN_IF_ERROR(w.AddKeyValue(kv.key, kv.value));
  const std::string path =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name + ".gguf";
  DSI_RETURN_IF_ERROR(w.WriteFile(path));
  StatusOr<GgufFile> file = GgufFile::Open(path);
  std::remove(path.c_str());
  if (!file.ok()) return file.status();
  return LoadGgufTokenizer(*file);
}

const GgufValue* FindKey(const std::vector<GgufKeyValue>& metadata, std::string_view key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

void ExpectSameEncodings(const Tokenizer& gguf, const Tokenizer& json,
                         const std::vector<std::string>& texts) {
  for (const std::string& text : texts) {
    for (bool special : {false, true}) {
      const std::vector<int32_t> ids = *json.Encode(text, {.parse_special = special});
      EXPECT_EQ(*gguf.Encode(text, {.parse_special = special}), ids) << text;
      EXPECT_EQ(*gguf.Decode(ids), *json.Decode(ids)) << text;
    }
  }
}

TEST(TokenizerGgufMetadataTest, NoVocabularyIsMarkedAndRefusedByName) {
  const std::vector<GgufKeyValue> metadata = NoVocabularyGgufMetadata();
  const GgufValue* model = FindKey(metadata, "tokenizer.ggml.model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(*model->AsString(), "no_vocab");  // llama.cpp's LLAMA_VOCAB_TYPE_NONE
  StatusOr<Tokenizer> tok = ThroughGguf(metadata, "no_vocab");
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(tok.status().message(), ::testing::HasSubstr("no vocabulary"));
  EXPECT_THAT(tok.status().message(), ::testing::HasSubstr("token ids"));
  EXPECT_TRUE(IsNoVocabularyModel("none"));
  EXPECT_FALSE(IsNoVocabularyModel("gpt2"));
}

TEST(TokenizerGgufMetadataTest, RecognisesThePresetFromHowTextSplits) {
  EXPECT_EQ(Pre(TinyWith(kQwen2Regex)), "qwen2");
  EXPECT_EQ(Pre(TinyWith(kLlama3Regex)), "llama-bpe");
  // \p{N}{1,3} then GPT-2's own regex: no preset splits like that.
  const std::string none = Pre(testing::TinyTokenizerJson().dump());
  EXPECT_NE(none.find("like none of llama.cpp's presets"), std::string::npos) << none;
}

TEST(TokenizerGgufMetadataTest, TinyTokenizerRoundTripsThroughGguf) {
  const std::string json = TinyWith(kQwen2Regex);
  const std::string config = testing::TinyTokenizerConfig();
  constexpr int64_t kVocab = 410;  // 6 ids past the last token: "[PAD<id>]" fillers
  StatusOr<std::vector<GgufKeyValue>> metadata = TokenizerGgufMetadata(json, config, kVocab);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_EQ(FindKey(*metadata, gguf::kKeyTokenizerPre)->storage(),
            GgufValue::String("qwen2").storage());
  EXPECT_EQ(FindKey(*metadata, gguf::kKeyBosTokenId)->storage(),
            GgufValue::U32(testing::kBos).storage());
  EXPECT_EQ(FindKey(*metadata, gguf::kKeyAddBosToken)->storage(), GgufValue::Bool(true).storage());
  EXPECT_EQ(FindKey(*metadata, gguf::kKeyAddEosToken), nullptr);  // not in tokenizer_config
  const auto& tokens = std::get<GgufArray>(FindKey(*metadata, gguf::kKeyTokens)->storage());
  ASSERT_EQ(static_cast<int64_t>(tokens.items.size()), kVocab);
  EXPECT_EQ(tokens.items[409].storage(), GgufValue::String("[PAD409]").storage());
  const auto& types = std::get<GgufArray>(FindKey(*metadata, gguf::kKeyTokenType)->storage());
  EXPECT_EQ(types.items[testing::kBos].storage(), GgufValue::I32(3).storage());   // control
  EXPECT_EQ(types.items[testing::kTool].storage(), GgufValue::I32(4).storage());  // user-defined
  EXPECT_EQ(types.items[409].storage(), GgufValue::I32(5).storage());             // unused
  EXPECT_EQ(types.items[65].storage(), GgufValue::I32(1).storage());              // normal

  StatusOr<Tokenizer> gguf = ThroughGguf(*metadata, "tiny_tok");
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  StatusOr<Tokenizer> hf = LoadHfTokenizer(json, config);
  ASSERT_TRUE(hf.ok());
  ExpectSameEncodings(*gguf, *hf,
                      {"hello world 12345", "<|bos|>aab<|eos|> <tool> x<sw>y",
                       "don't STOP\r\n\t 中 \xE4\xB8\xAD", ""});
  EXPECT_EQ(gguf->bos_id(), hf->bos_id());
  EXPECT_EQ(gguf->eos_id(), hf->eos_id());
  EXPECT_EQ(gguf->chat_template(), hf->chat_template());

  const StatusOr<std::vector<GgufKeyValue>> small = TokenizerGgufMetadata(json, config, 400);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("token id 403"), std::string::npos)
      << small.status().ToString();
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(TokenizerGgufMetadataTest, DeepSeekV3TokenizerJson) {
  const std::string dir = std::string(DSINFER_TEST_DATA_DIR) + "/../../.cache/deepseek-v3";
  const std::optional<std::string> json = ReadText(dir + "/tokenizer.json");
  const std::optional<std::string> config = ReadText(dir + "/tokenizer_config.json");
  if (!json || !config) GTEST_SKIP() << "run scripts/fetch-test-assets.sh for " << dir;
  StatusOr<std::optional<std::vector<GgufKeyValue>>> metadata =
      TokenizerGgufMetadataFromDir(dir, 129280);  // V3's vocab_size
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  ASSERT_TRUE(metadata->has_value());
  EXPECT_EQ(FindKey(**metadata, gguf::kKeyTokenizerPre)->storage(),
            GgufValue::String("deepseek-v3").storage());
  StatusOr<Tokenizer> gguf = ThroughGguf(**metadata, "v3_tok");
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  StatusOr<Tokenizer> hf = LoadHfTokenizer(*json, *config);
  ASSERT_TRUE(hf.ok());
  EXPECT_EQ(gguf->vocab_size(), hf->vocab_size());
  // Lines without the special-looking non-special tokens the converter promotes to control.
  ExpectSameEncodings(*gguf, *hf,
                      {"Hello, World! It's 2024.\n\n  done", "\xE4\xBD\xA0\xE5\xA5\xBD 12345678",
                       "don't  STOP\r\n\t\xC2\xA0x", "<think>\nfine</think>"});
  EXPECT_EQ(gguf->chat_template(), hf->chat_template());
  EXPECT_EQ(gguf->bos_id(), hf->bos_id());
}

}  // namespace
}  // namespace dsinfer::tokenizer
