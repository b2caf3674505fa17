// StreamingDetokenizer: only complete UTF-8 leaves it, split characters are held back.
#include "tokenizer/streaming_detokenizer.h"

#include <gtest/gtest.h>

#include "tiny_tokenizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/utf8_repair.h"

namespace dsinfer::tokenizer {
namespace {

Tokenizer LoadTiny() {
  StatusOr<Tokenizer> t = LoadHfTokenizer(testing::TinyTokenizerJson().dump(), {});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(*t);
}

TEST(StreamingDetokenizer, HoldsBackASplitCharacterUntilComplete) {
  const Tokenizer tok = LoadTiny();
  StreamingDetokenizer stream(&tok);
  EXPECT_EQ(*stream.Feed('a'), "a");
  EXPECT_EQ(*stream.Feed(0xE4), "");  // 中 = E4 B8 AD, one byte token at a time
  EXPECT_EQ(*stream.Feed(0xB8), "");
  EXPECT_EQ(*stream.Feed(0xAD), "\xE4\xB8\xAD");
  // A 4-byte emoji split 1 + 3.
  EXPECT_EQ(*stream.Feed(0xF0), "");
  EXPECT_EQ(*stream.Feed(0x9F), "");
  EXPECT_EQ(*stream.Feed(0x98), "");
  EXPECT_EQ(*stream.Feed(0x80), "\xF0\x9F\x98\x80");
  EXPECT_EQ(stream.Flush(), "");
}

TEST(StreamingDetokenizer, FlushAndImpossibleBytesGiveReplacementCharacters) {
  const Tokenizer tok = LoadTiny();
  StreamingDetokenizer stream(&tok);
  EXPECT_EQ(*stream.Feed(0xE4), "");
  EXPECT_EQ(*stream.Feed('x'), "\xEF\xBF\xBDx");  // the character can no longer complete
  EXPECT_EQ(*stream.Feed(0xFF), "\xEF\xBF\xBD");  // can never start one
  EXPECT_EQ(*stream.Feed(0xE4), "");
  EXPECT_EQ(stream.Flush(), "\xEF\xBF\xBD");
  EXPECT_FALSE(stream.Feed(123456).ok());
}

TEST(StreamingDetokenizer, ConcatenationEqualsDecode) {
  const Tokenizer tok = LoadTiny();
  std::vector<int32_t> ids;
  ids.reserve(3000);
  for (int i = 0; i < 3000; ++i)
    ids.push_back((i * 7919 + i / 3) % 271);  // bytes and merged tokens
  StreamingDetokenizer stream(&tok);
  std::string streamed;
  for (const int32_t id : ids) streamed += *stream.Feed(id);
  streamed += stream.Flush();
  EXPECT_EQ(streamed, *tok.Decode(ids));
}

TEST(Utf8Repair, MaximalSubpartsAndTails) {
  EXPECT_EQ(ReplaceInvalidUtf8("ok"), "ok");
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(ReplaceInvalidUtf8("\xF0\x9F\x98"), "\xEF\xBF\xBD");          // one truncated
  EXPECT_EQ(ReplaceInvalidUtf8("\xF4\x90\x80\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
  EXPECT_EQ(IncompleteUtf8Tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(IncompleteUtf8Tail("a\xE4"), 1u);
  EXPECT_EQ(IncompleteUtf8Tail("a\xE4\xB8\xAD"), 0u);
  EXPECT_EQ(IncompleteUtf8Tail("a\xC0"), 0u);  // never valid: not held back
}

}  // namespace
}  // namespace dsinfer::tokenizer
