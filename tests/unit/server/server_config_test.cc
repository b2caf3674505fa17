#include "server/server_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace dsinfer::server {
namespace {

TEST(ServerConfigTest, YamlSetsOptionsOfEveryType) {
  ServeConfig config;
  const Status status = ApplyServeConfigYaml(&config, R"(
# a comment
model: /models/tiny.gguf
host: 0.0.0.0
port: 9137
idle_timeout: 2.5
kv_cache_fraction: 0.25
max_body_bytes: 65536
access_log: ""
)",
                                             "dsinfer.yaml");
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(config.model, "/models/tiny.gguf");
  EXPECT_EQ(config.host, "0.0.0.0");
  EXPECT_EQ(config.port, 9137);
  EXPECT_DOUBLE_EQ(config.idle_timeout, 2.5);
  EXPECT_DOUBLE_EQ(config.kv_cache_fraction, 0.25);
  EXPECT_EQ(config.max_body_bytes, 65536);
  EXPECT_EQ(config.access_log, "");
  EXPECT_EQ(config.max_num_seqs, ServeConfig().max_num_seqs);  // untouched keeps the default
}

TEST(ServerConfigTest, UnknownKeyIsAnErrorWithLineAndSuggestion) {
  ServeConfig config;
  const Status status =
      ApplyServeConfigYaml(&config, "model: m.gguf\nprot: 8080\n", "dsinfer.yaml");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "dsinfer.yaml:2: unknown key 'prot' (did you mean 'port'?)");
  EXPECT_EQ(config.model, "");  // nothing of a bad file is applied
}

TEST(ServerConfigTest, WrongTypesAndRangesNameTheKey) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"port: eighty", "dsinfer.yaml:1: 'port' must be an integer, got 'eighty'"},
      {"port: 70000", "dsinfer.yaml:1: 'port' must be in 0..65535, got 70000"},
      {"idle_timeout: soon", "dsinfer.yaml:1: 'idle_timeout' must be a number, got 'soon'"},
      {"max_num_seqs: 0", "dsinfer.yaml:1: 'max_num_seqs' must be in 1..65536, got 0"},
      {"\n\nport: [1, 2]", "dsinfer.yaml:3: 'port' must be a single value, not a list or mapping"},
      {"port:", "dsinfer.yaml:1: 'port' has no value"},
      {"port: 1\nport: 2", "dsinfer.yaml:2: 'port' is given twice"},
      {"- port", "dsinfer.yaml: must be a mapping of option keys to values"},
  };
  for (const Case& c : cases) {
    ServeConfig config;
    const Status status = ApplyServeConfigYaml(&config, c.yaml, "dsinfer.yaml");
    EXPECT_EQ(status.message(), c.message) << c.yaml;
  }
}

TEST(ServerConfigTest, BrokenYamlIsAnErrorNotACrash) {
  ServeConfig config;
  const Status status = ApplyServeConfigYaml(&config, "model: [unclosed\nport: 1", "x.yaml");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("x.yaml:"), std::string_view::npos) << status.message();
  EXPECT_NE(status.message().find("not valid YAML"), std::string_view::npos);
}

TEST(ServerConfigTest, EmptyDocumentSetsNothing) {
  ServeConfig config;
  EXPECT_TRUE(ApplyServeConfigYaml(&config, "# only a comment\n", "x.yaml").ok());
  EXPECT_EQ(config.port, ServeConfig().port);
}

TEST(ServerConfigTest, FlagsAndKeysAreTheSameOptions) {
  std::set<std::string> flags;
  for (const ServeOption& option : ServeOptionTable()) {
    const std::string flag = FlagName(option.key);
    EXPECT_EQ(flag.find('_'), std::string::npos);
    EXPECT_TRUE(flags.insert(flag).second) << flag;
    EXPECT_FALSE(option.help.empty()) << option.key;
  }
  EXPECT_EQ(FlagName("max_body_bytes"), "--max-body-bytes");
  ServeConfig config;
  ASSERT_TRUE(SetServeOption(&config, "max_body_bytes", "12345").ok());
  EXPECT_EQ(config.max_body_bytes, 12345);
  EXPECT_EQ(SetServeOption(&config, "max_body_byte", "1").message(),
            "unknown key 'max_body_byte' (did you mean 'max_body_bytes'?)");
  EXPECT_EQ(SetServeOption(&config, "port", "80x").message(),
            "'port' must be an integer, got '80x'");
}

TEST(ServerConfigTest, FlagsAppliedAfterTheFileWin) {
  const std::string path = ::testing::TempDir() + "/server_config_test.yaml";
  {
    std::ofstream file(path);
    file << "model: from-file.gguf\nport: 1111\nmax_queue: 7\n";
  }
  ServeConfig config;
  ASSERT_TRUE(ApplyServeConfigFile(&config, path).ok());
  ASSERT_TRUE(SetServeOption(&config, "port", "2222").ok());  // as `--port 2222` does
  EXPECT_EQ(config.port, 2222);
  EXPECT_EQ(config.max_queue, 7);
  EXPECT_EQ(config.model, "from-file.gguf");
  std::remove(path.c_str());
  EXPECT_EQ(ApplyServeConfigFile(&config, path).code(), StatusCode::kNotFound);
}

TEST(ServerConfigTest, ValidationAndMappingToLayerOptions) {
  ServeConfig config;
  EXPECT_EQ(ValidateServeConfig(config).message(),
            "no model: give -m MODEL or 'model:' in the config file");
  config.model = "m.gguf";
  config.header_timeout = 1.5;
  config.http_threads = 3;
  config.max_num_seqs = 9;
  config.kv_cache_bytes = 1 << 20;
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  const HttpServerOptions http = HttpOptionsFor(config);
  EXPECT_EQ(http.header_timeout.count(), 1500);
  EXPECT_EQ(http.io_threads, 3);
  EXPECT_EQ(http.port, 8080);
  const engine::EngineOptions engine = EngineOptionsFor(config);
  EXPECT_EQ(engine.max_num_seqs, 9);
  EXPECT_EQ(engine.kv_cache_bytes, 1 << 20);
}

// hf_type: q8_0 unless set; a weight type or a mixture, anything else an error naming the key.
TEST(ServerConfigTest, HfTypeIsAWeightTypeOrAMixture) {
  ServeConfig config;
  config.model = "dir";
  EXPECT_EQ(config.hf_type, "q8_0");
  ASSERT_TRUE(SetServeOption(&config, "hf_type", "Q4_K_M").ok());
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  ASSERT_TRUE(SetServeOption(&config, "hf_type", "bf16").ok());
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  ASSERT_TRUE(SetServeOption(&config, "hf_type", "q4_k_x").ok());
  const Status bad = ValidateServeConfig(config);
  EXPECT_NE(bad.message().find("'hf_type': 'q4_k_x' is not a type"), std::string::npos)
      << bad.message();
  config.hf_type = "q8_k";  // an activation type
  EXPECT_NE(ValidateServeConfig(config).message().find("cannot store weights"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::server
