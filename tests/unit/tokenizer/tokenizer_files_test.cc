// Loading: every malformed tokenizer.json / tokenizer_config.json is a Status naming the
// field; the GGUF loader builds the same tokenizer as the JSON one.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "tiny_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {
namespace {

using Json = nlohmann::json;

struct BrokenCase {
  const char* name;
  std::function<void(Json&)> mutate;
  const char* expected_in_message;
};

TEST(TokenizerJson, BrokenFilesAreErrorsNamingTheField) {
  const std::vector<BrokenCase> cases = {
      {"no model", [](Json& j) { j.erase("model"); }, "model"},
      {"model not object", [](Json& j) { j["model"] = 3; }, "model"},
      {"unigram", [](Json& j) { j["model"]["type"] = "Unigram"; }, "Unigram"},
      {"vocab not object", [](Json& j) { j["model"]["vocab"] = Json::array(); }, "model.vocab"},
      {"negative id", [](Json& j) { j["model"]["vocab"]["zz"] = -4; }, "model.vocab.zz"},
      {"string id", [](Json& j) { j["model"]["vocab"]["zz"] = "7"; }, "model.vocab.zz"},
      {"merges missing", [](Json& j) { j["model"].erase("merges"); }, "merges"},
      {"merge no space", [](Json& j) { j["model"]["merges"][0] = "ab"; }, "model.merges[0]"},
      {"merge triple",
       [](Json& j) {
         j["model"]["merges"][1] = Json::array({"a", "b", "c"});
       },
       "model.merges[1]"},
      {"merge unknown", [](Json& j) { j["model"]["merges"][2] = "Q @@"; }, "merges[2]"},
      {"merge number", [](Json& j) { j["model"]["merges"][0] = 5; }, "model.merges[0]"},
      {"byte fallback", [](Json& j) { j["model"]["byte_fallback"] = true; }, "byte_fallback"},
      {"added not array", [](Json& j) { j["added_tokens"] = "x"; }, "added_tokens"},
      {"added no id", [](Json& j) { j["added_tokens"][0].erase("id"); }, "added_tokens[0]"},
      {"added empty", [](Json& j) { j["added_tokens"][1]["content"] = ""; }, "added_tokens[1]"},
      {"added bool", [](Json& j) { j["added_tokens"][1]["lstrip"] = "yes"; },
       "added_tokens[1].lstrip"},
      {"huge id", [](Json& j) { j["added_tokens"][1]["id"] = 2000000000; }, "2000000000"},
      {"bad regex",
       [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(["; },
       "pre_tokenizer.pretokenizers[0].pattern"},
      {"bad behavior", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Odd"; },
       "pre_tokenizer.pretokenizers[0].behavior"},
      {"no pattern", [](Json& j) { j["pre_tokenizer"]["pretokenizers"][0].erase("pattern"); },
       "pattern"},
      {"metaspace",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}};
       },
       "Metaspace"},
      {"no byte level", [](Json& j) { j["pre_tokenizer"] = nullptr; }, "ByteLevel"},
      {"nfkc",
       [](Json& j) {
         j["normalizer"] = {{"type", "NFKC"}};
       },
       "normalizer.type"},
      {"decoder",
       [](Json& j) {
         j["decoder"] = {{"type", "WordPiece"}};
       },
       "decoder.type"},
  };
  for (const BrokenCase& c : cases) {
    Json j = testing::TinyTokenizerJson();
    c.mutate(j);
    StatusOr<Tokenizer> t = LoadHfTokenizer(j.dump(), {});
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_NE(t.status().message().find(c.expected_in_message), std::string::npos)
        << c.name << ": " << t.status().ToString();
  }
}

TEST(TokenizerJson, NotJsonOrBadUtf8IsAnError) {
  for (const std::string text : {"", "{", "[1]", "\xFF", "{\"model\": {\"vocab\": {}"}) {
    EXPECT_FALSE(LoadHfTokenizer(text, {}).ok()) << text;
  }
}

TEST(TokenizerConfig, BrokenConfigsAreErrorsNamingTheField) {
  const std::string json = testing::TinyTokenizerJson().dump();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"bos_token": 5})", "bos_token"},
      {R"({"bos_token": "<nope>"})", "bos_token"},
      {R"({"eos_token": {"content": 1}})", "eos_token.content"},
      {R"({"add_bos_token": "true"})", "add_bos_token"},
      {R"({"chat_template": 3})", "chat_template"},
      {R"({"chat_template": [{"name": "default"}]})", "chat_template[0]"},
      {"not json", "tokenizer_config.json"},
  };
  for (const auto& [config, field] : cases) {
    StatusOr<Tokenizer> t = LoadHfTokenizer(json, config);
    ASSERT_FALSE(t.ok()) << config;
    EXPECT_NE(t.status().message().find(field), std::string::npos) << t.status().ToString();
  }
  StatusOr<Tokenizer> t =
      LoadHfTokenizer(json, R"({"chat_template": [{"name": "tool_use", "template": "T"},
                                  {"name": "default", "template": "D"}]})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->chat_template(), "D");
}

// The tiny tokenizer as llama.cpp's converter would write it into GGUF metadata.
StatusOr<GgufFile> TinyGguf(std::string_view pre, bool with_types = true) {
  const Json j = testing::TinyTokenizerJson();
  std::vector<std::string> tokens(404);
  for (const auto& [text, id] : j["model"]["vocab"].items()) tokens[id.get<size_t>()] = text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) tokens[i] = "[PAD" + std::to_string(i) + "]";
  }
  GgufArray types{.element_type = GgufType::kInt32};
  for (size_t i = 0; i < tokens.size(); ++i) types.items.push_back(GgufValue::I32(1));
  for (const auto& added : j["added_tokens"]) {
    const auto id = added["id"].get<size_t>();
    tokens[id] = added["content"].get<std::string>();
    types.items[id] = GgufValue::I32(added["special"].get<bool>() ? 3 : 4);
  }
  std::vector<std::string> merges;
  for (const auto& m : j["model"]["merges"]) merges.push_back(m.get<std::string>());
  GgufWriter writer;
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyTokenizerModel), GgufValue::String("gpt2")));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyTokenizerPre), GgufValue::String(std::string(pre))));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyTokens), GgufValue::StringArray(tokens)));
  if (with_types) {
    DSI_RETURN_IF_ERROR(
        writer.AddKeyValue(std::string(gguf::kKeyTokenType), GgufValue::Array(types)));
  }
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyMerges), GgufValue::StringArray(merges)));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyBosTokenId), GgufValue::U32(testing::kBos)));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyEosTokenId), GgufValue::U32(testing::kEos)));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyAddBosToken), GgufValue::Bool(true)));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyChatTemplate), GgufValue::String("{{ x }}")));
  DSI_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, writer.WriteToBuffer());
  auto owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  return GgufFile::Parse(*owned, "tiny.gguf", owned);
}

TEST(TokenizerGguf, MatchesTheJsonLoaderOnTheSameVocabulary) {
  StatusOr<GgufFile> file = TinyGguf("deepseek-v3");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  StatusOr<Tokenizer> from_gguf = LoadGgufTokenizer(*file);
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status().ToString();
  // The JSON twin with DeepSeek-V3's pre-tokenizer.
  Json j = testing::TinyTokenizerJson();
  Json steps = Json::array();
  const StatusOr<std::vector<std::string>> patterns = PreTokenizerPatterns("deepseek-v3");
  ASSERT_TRUE(patterns.ok());
  for (const std::string& p : *patterns) {
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", p}}}, {"behavior", "Isolated"}});
  }
  steps.push_back({{"type", "ByteLevel"}, {"use_regex", false}});
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", steps}};
  StatusOr<Tokenizer> from_json = LoadHfTokenizer(j.dump(), {});
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  // GGUF keeps no lstrip/rstrip, so no text here puts spaces next to <tool>.
  for (const char* text : {"hello world", "<|eos|>x<tool>y", "1234567 aaa", "\xE4\xB8\xAD!!",
                           "Hello, World! It's 2024.\n\n  done"}) {
    for (const bool special : {false, true}) {
      EXPECT_EQ(*from_gguf->Encode(text, {.parse_special = special}),
                *from_json->Encode(text, {.parse_special = special}))
          << text;
    }
  }
  EXPECT_EQ(from_gguf->bos_id(), testing::kBos);
  EXPECT_EQ(from_gguf->eos_id(), testing::kEos);
  EXPECT_TRUE(from_gguf->add_bos());
  EXPECT_EQ(from_gguf->chat_template(), "{{ x }}");
  EXPECT_TRUE(from_gguf->IsSpecial(testing::kEos));
  EXPECT_FALSE(from_gguf->IsSpecial(testing::kTool));
}

TEST(TokenizerGguf, EveryPresetCompilesAndUnknownOnesAreRefused) {
  for (const char* pre : {"deepseek-v3", "deepseek-llm", "deepseek-coder", "qwen2", "llama-bpe",
                          "gpt-2", "default"}) {
    StatusOr<GgufFile> file = TinyGguf(pre);
    ASSERT_TRUE(file.ok()) << pre;
    StatusOr<Tokenizer> t = LoadGgufTokenizer(*file);
    ASSERT_TRUE(t.ok()) << pre << ": " << t.status().ToString();
    EXPECT_EQ(*t->Decode(*t->Encode("Hi there 12345 \xE4\xB8\xAD\n", {})),
              "Hi there 12345 \xE4\xB8\xAD\n")
        << pre;
  }
  StatusOr<GgufFile> file = TinyGguf("mystery");
  ASSERT_TRUE(file.ok());
  StatusOr<Tokenizer> t = LoadGgufTokenizer(*file);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("mystery"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::tokenizer
