#include "telemetry/access_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace dsinfer::telemetry {
namespace {

AccessLogRecord GenerationRecord() {
  AccessLogRecord record;
  // 2026-11-28T17:00:00.123Z
  record.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795885200123));
  record.request_id = "req-1f";
  record.method = "POST";
  record.route = "/v1/chat/completions";
  record.status = 200;
  record.remote = "127.0.0.1";
  record.model = "tiny";
  record.stream = true;
  record.prompt_tokens = 12;
  record.completion_tokens = 30;
  record.cached_tokens = 0;
  record.finish_reason = "stop";
  record.queue_seconds = 0.0004;
  record.first_token_seconds = 0.012;
  record.duration_seconds = 0.31;
  return record;
}

TEST(AccessLogTest, GenerationRecordIsOneJsonLine) {
  const std::string line = FormatAccessLogLine(GenerationRecord());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line, R"({"ts":"2026-11-28T17:00:00.123Z","request_id":"req-1f","method":"POST",)"
                  R"("route":"/v1/chat/completions","status":200,"model":"tiny","stream":true,)"
                  R"("prompt_tokens":12,"completion_tokens":30,"cached_tokens":0,)"
                  R"("finish_reason":"stop","queue_s":0.0004,"ttft_s":0.012,"duration_s":0.31,)"
                  R"("remote":"127.0.0.1"})"
                  "\n");
}

TEST(AccessLogTest, RequestsThatNeverReachedTheEngineOmitTheirFields) {
  AccessLogRecord record;
  record.request_id = "req-2";
  record.method = "GET";
  record.route = "/nope";
  record.status = 404;
  record.duration_seconds = 0.0001;
  const nlohmann::json json = nlohmann::json::parse(FormatAccessLogLine(record));
  EXPECT_EQ(json["status"], 404);
  EXPECT_FALSE(json.contains("prompt_tokens"));
  EXPECT_FALSE(json.contains("model"));
}

TEST(AccessLogTest, ClientControlledTextIsEscapedAndInvalidUtf8Replaced) {
  AccessLogRecord record = GenerationRecord();
  record.route = "/v1/x\"\n\xff{";
  record.request_id = "a\\b";
  const std::string line = FormatAccessLogLine(record);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // still one line
  const nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["route"], "/v1/x\"\n\xEF\xBF\xBD{");
  EXPECT_EQ(json["request_id"], "a\\b");
}

TEST(AccessLogTest, FileLogAppendsLines) {
  const std::string path = ::testing::TempDir() + "/access_log_test.jsonl";
  std::remove(path.c_str());
  {
    StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->Write(GenerationRecord());
    AccessLogRecord second = GenerationRecord();
    second.request_id = "req-20";
    (*log)->Write(second);
  }
  std::ifstream file(path);
  std::string first_line, second_line, extra;
  ASSERT_TRUE(std::getline(file, first_line));
  ASSERT_TRUE(std::getline(file, second_line));
  EXPECT_FALSE(std::getline(file, extra));
  EXPECT_EQ(nlohmann::json::parse(first_line)["request_id"], "req-1f");
  EXPECT_EQ(nlohmann::json::parse(second_line)["request_id"], "req-20");
  std::remove(path.c_str());
  EXPECT_FALSE(AccessLog::Open("/nonexistent-dir/x/access.jsonl").ok());
}

}  // namespace
}  // namespace dsinfer::telemetry
