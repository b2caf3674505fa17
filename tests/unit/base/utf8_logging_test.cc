#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/aligned_buffer.h"
#include "base/logging.h"
#include "base/utf8.h"

namespace dsinfer {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("<｜begin▁of▁sentence｜>"));
  EXPECT_TRUE(IsValidUtf8("深度求索 🤖 é"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8Test, RejectsIllFormedText) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ab\xe6\xb7"));        // truncated
  EXPECT_EQ(FirstInvalidUtf8Offset("ab\xe6\xb7"), 2u);
}

TEST(Utf8Test, EscapeForMessageIsPrintableAndBounded) {
  EXPECT_EQ(EscapeForMessage("a\xff\n深"), "a\\xff\\x0a深");
  EXPECT_EQ(EscapeForMessage(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(LoggingTest, LevelsParseAndJsonEscapes) {
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
  EXPECT_EQ(JsonEscape("ok \xff\xfe end é"), "ok \\ufffd\\ufffd end é");
}

TEST(LoggingTest, JsonModeWritesOneParsableObjectPerRecord) {
  std::ostringstream captured;
  InitLogging({.level = LogLevel::kInfo,
               .json = true,
               .sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)});
  LogInfo("opened {} in {} ms", "model\xff.gguf", 21);
  LogDebug("below the level: {}", "dropped");
  LogWarn("quote \" and newline\n");
  spdlog::default_logger()->flush();
  std::istringstream lines(captured.str());
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line)) {
    records.push_back(nlohmann::json::parse(line));  // throws (fails the test) if invalid
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["level"], "info");
  EXPECT_EQ(records[0]["msg"], "opened model\xef\xbf\xbd.gguf in 21 ms");
  EXPECT_EQ(records[1]["level"], "warning");
  EXPECT_EQ(records[1]["msg"], "quote \" and newline\n");
  EXPECT_EQ(records[0]["ts"].get<std::string>().size(), 24u);  // 2026-11-28T17:00:00.123Z
  InitLogging({.level = LogLevel::kOff});
}

TEST(AlignedBufferTest, AlignedZeroedAndExplicitlyCopied) {
  AlignedBuffer buffer(100, 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % 64, 0u);
  for (std::byte b : buffer.bytes()) ASSERT_EQ(b, std::byte{0});
  buffer.data()[99] = std::byte{7};
  AlignedBuffer copy = buffer.Copy();
  EXPECT_NE(copy.data(), buffer.data());
  EXPECT_EQ(copy.data()[99], std::byte{7});
  AlignedBuffer moved = std::move(buffer);
  EXPECT_EQ(moved.size(), 100u);
  EXPECT_TRUE(buffer.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
}

}  // namespace
}  // namespace dsinfer
