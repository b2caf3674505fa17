// Encode/decode of the tiny hand-made tokenizer (tiny_tokenizer.h): merges by rank, added
// and special tokens, lstrip/rstrip/single_word, invalid UTF-8, empty and 1 MB inputs.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tiny_tokenizer.h"
#include "tokenizer/tokenizer_json.h"

namespace dsinfer::tokenizer {
namespace {

using testing::kBos;
using testing::kEos;
using testing::kTool;
using testing::kWord;
using testing::MergedId;

const Tokenizer& Tiny() {
  static const Tokenizer* tokenizer = [] {
    StatusOr<Tokenizer> t =
        LoadHfTokenizer(testing::TinyTokenizerJson().dump(), testing::TinyTokenizerConfig());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return new Tokenizer(std::move(*t));
  }();
  return *tokenizer;
}

std::vector<int32_t> Ids(std::string_view text, bool parse_special = true) {
  StatusOr<std::vector<int32_t>> ids = Tiny().Encode(text, {.parse_special = parse_special});
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

TEST(Tokenizer, MergesApplyByRank) {
  EXPECT_EQ(Ids("hello"), std::vector<int32_t>{MergedId("hello")});
  EXPECT_EQ(Ids("hello world"), (std::vector<int32_t>{MergedId("hello"), MergedId(" world")}));
  EXPECT_EQ(Ids("hellohello"), (std::vector<int32_t>{MergedId("hello"), MergedId("hello")}));
  // "b c" outranks "a b": abc -> a + bc, not ab + c.
  EXPECT_EQ(Ids("abc"), (std::vector<int32_t>{'a', MergedId("bc")}));
  // Equal ranks go to the leftmost pair: aaa -> aa + a.
  EXPECT_EQ(Ids("aaa"), (std::vector<int32_t>{MergedId("aa"), 'a'}));
  EXPECT_EQ(Ids("aaaaa"), (std::vector<int32_t>{MergedId("aa"), MergedId("aa"), 'a'}));
  EXPECT_EQ(Ids("\xE4\xB8\xAD"), std::vector<int32_t>{MergedId("\xE4\xB8\xAD")});  // 中
}

TEST(Tokenizer, PairFormMergesLoadTheSame) {
  StatusOr<Tokenizer> pairs = LoadHfTokenizer(testing::TinyTokenizerJson(true).dump(), {});
  ASSERT_TRUE(pairs.ok()) << pairs.status().ToString();
  for (const char* text : {"hello world", "abcaaa", "1212 \xE4\xB8\xAD"}) {
    EXPECT_EQ(*pairs->Encode(text, {}), Ids(text)) << text;
  }
}

TEST(Tokenizer, PreTokenizerSplitsDigitsInThrees) {
  // "1212" -> "121" + "2": the "1 2" merge cannot cross the split.
  EXPECT_EQ(Ids("1212"), (std::vector<int32_t>{MergedId("12"), '1', '2'}));
}

TEST(Tokenizer, SpecialTokensOnlyWithParseSpecial) {
  EXPECT_EQ(Ids("x<|eos|>y"), (std::vector<int32_t>{'x', kEos, 'y'}));
  const std::vector<int32_t> plain = Ids("x<|eos|>y", /*parse_special=*/false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), kEos), 0);
  EXPECT_EQ(*Tiny().Decode(plain), "x<|eos|>y");
  // Non-special added tokens match either way.
  EXPECT_EQ(Ids("<tool>", false), std::vector<int32_t>{kTool});
}

TEST(Tokenizer, LstripAndRstripEatNeighbouringSpaces) {
  EXPECT_EQ(Ids("a \t<tool>\n b"), (std::vector<int32_t>{'a', kTool, 'b'}));
  EXPECT_EQ(Ids("<tool>"), std::vector<int32_t>{kTool});
  // <|eos|> strips nothing: the spaces stay ordinary text.
  EXPECT_EQ(Ids("a <|eos|> b"), (std::vector<int32_t>{'a', ' ', kEos, ' ', 'b'}));
}

TEST(Tokenizer, SingleWordNeedsNonWordNeighbours) {
  EXPECT_EQ(Ids(" <sw> "), (std::vector<int32_t>{' ', kWord, ' '}));
  const std::vector<int32_t> glued = Ids("x<sw>");
  EXPECT_EQ(std::count(glued.begin(), glued.end(), kWord), 0);
}

TEST(Tokenizer, LongestAddedTokenWins) {
  nlohmann::json j = testing::TinyTokenizerJson();
  j["added_tokens"].push_back({{"id", 404}, {"content", "<|eos|>!"}, {"special", true}});
  StatusOr<Tokenizer> t = LoadHfTokenizer(j.dump(), {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t->Encode("<|eos|>!", {.parse_special = true}), std::vector<int32_t>{404});
  EXPECT_EQ(*t->Encode("<|eos|>?", {.parse_special = true}), (std::vector<int32_t>{kEos, '?'}));
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacter) {
  // 0xFF can start nothing; "\xE4\xB8" is a truncated 中: each maximal subpart is one U+FFFD.
  EXPECT_EQ(Ids("a\xFF"
                "b"),
            Ids("a\xEF\xBF\xBD"
                "b"));
  EXPECT_EQ(Ids("\xE4\xB8"
                "z"),
            Ids("\xEF\xBF\xBD"
                "z"));
  EXPECT_EQ(Ids("\xED\xA0\x80"), Ids("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));  // surrogate
}

TEST(Tokenizer, EmptyInputGivesNoIdsAndBosWhenAsked) {
  EXPECT_TRUE(Ids("").empty());
  EXPECT_EQ(*Tiny().Encode("", {.add_bos = true}), std::vector<int32_t>{kBos});
  EXPECT_EQ(*Tiny().Encode("hello", {.add_bos = true}),
            (std::vector<int32_t>{kBos, MergedId("hello")}));
}

TEST(Tokenizer, ConfigGivesBosEosAndTemplate) {
  EXPECT_EQ(Tiny().bos_id(), kBos);
  EXPECT_EQ(Tiny().eos_id(), kEos);
  EXPECT_TRUE(Tiny().add_bos());
  EXPECT_EQ(Tiny().chat_template(), "{{ messages }}");
  EXPECT_TRUE(Tiny().IsSpecial(kEos));
  EXPECT_FALSE(Tiny().IsSpecial(kTool));
  EXPECT_EQ(Tiny().FindToken("<|eos|>"), kEos);
}

TEST(Tokenizer, DecodeRoundTripsAndSkipsSpecial) {
  const std::string text = "hello world 1212 \xE4\xB8\xAD<tool>aaa";
  EXPECT_EQ(*Tiny().Decode(Ids(text)), "hello world 1212 \xE4\xB8\xAD<tool>aaa");
  const std::vector<int32_t> with_eos = Ids("hi<|eos|>");
  EXPECT_EQ(*Tiny().Decode(with_eos, {.skip_special = true}), "hi");
  EXPECT_FALSE(Tiny().Decode(std::vector<int32_t>{99999}).ok());
  EXPECT_FALSE(Tiny().Decode(std::vector<int32_t>{-1}).ok());
  // Bytes of half a character decode to U+FFFD, raw bytes stay available.
  EXPECT_EQ(*Tiny().Decode(std::vector<int32_t>{0xE4, 'x'}), "\xEF\xBF\xBDx");
  EXPECT_EQ(*Tiny().DecodeBytes(std::vector<int32_t>{0xE4}), "\xE4");
}

TEST(Tokenizer, OneMegabyteInputsRoundTrip) {
  std::mt19937 rng(7);
  const std::vector<std::string> words = {
      "hello", " world", "aaa",     "12345", "\xE4\xB8\xAD",
      "\n\n",  "  ",     "<|eos|>", "!?",    "\xF0\x9F\x98\x80"};
  std::string text;
  while (text.size() < (1 << 20)) text += words[rng() % words.size()];
  const std::vector<int32_t> ids = Ids(text, false);
  EXPECT_GT(ids.size(), text.size() / 8);
  StatusOr<std::string> decoded = Tiny().Decode(ids);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(*decoded == text);  // not EXPECT_EQ: a 1 MB diff would swamp the log
  // One 1 MB word: a single piece through BPE, O(n log n).
  const std::string word(1 << 20, 'a');
  const std::vector<int32_t> word_ids = Ids(word);
  EXPECT_EQ(word_ids.size(), word.size() / 2);
  EXPECT_EQ(*Tiny().Decode(word_ids), word);
}

TEST(Tokenizer, RoundTripsTextWithoutStrippingTokens) {
  std::mt19937 rng(11);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += static_cast<char>(32 + rng() % 95);
  EXPECT_EQ(*Tiny().Decode(Ids(text, false)), text);
}

}  // namespace
}  // namespace dsinfer::tokenizer
