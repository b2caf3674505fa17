// The served model the OpenAI layer tests run against: DeepSeek-V3's real tokenizer and chat
// template (.cache/deepseek-v3, put there by scripts/fetch-test-assets.sh; tests skip when it
// is absent), loaded once per test binary.
#ifndef DSINFER_TESTS_UNIT_SERVER_TEST_MODEL_H_
#define DSINFER_TESTS_UNIT_SERVER_TEST_MODEL_H_

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "server/openai_api.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/load_tokenizer.h"

namespace dsinfer::server::testing {

inline constexpr const char* kBos = "<｜begin▁of▁sentence｜>";
inline constexpr const char* kEos = "<｜end▁of▁sentence｜>";

inline std::string V3Dir() {
  return std::string(DSINFER_TEST_DATA_DIR) + "/../../.cache/deepseek-v3";
}

// Loaded once; null when the assets are absent (the caller skips).
struct V3Assets {
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<tokenizer::ChatTemplate> chat_template;
  std::unique_ptr<tokenizer::ChatTemplate> r1_template;  // R1-Distill's, "<think>\n" at the end
};

inline const V3Assets* LoadV3Assets() {
  static const V3Assets* assets = []() -> const V3Assets* {
    if (!std::filesystem::exists(V3Dir() + "/tokenizer.json")) return nullptr;
    StatusOr<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(V3Dir());
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status().ToString();
      return nullptr;
    }
    auto* out = new V3Assets;
    out->tokenizer = std::make_unique<tokenizer::Tokenizer>(std::move(tok).value());
    StatusOr<tokenizer::ChatTemplate> tmpl =
        tokenizer::ChatTemplate::Parse(out->tokenizer->chat_template());
    EXPECT_TRUE(tmpl.ok()) << tmpl.status().ToString();
    if (tmpl.ok()) {
      out->chat_template = std::make_unique<tokenizer::ChatTemplate>(std::move(tmpl).value());
    }
    std::ifstream in(std::string(DSINFER_TEST_DATA_DIR) +
                     "/chat_templates/deepseek_r1_distill_qwen.jinja");
    std::stringstream r1;
    r1 << in.rdbuf();
    StatusOr<tokenizer::ChatTemplate> r1_tmpl = tokenizer::ChatTemplate::Parse(r1.str());
    EXPECT_TRUE(r1_tmpl.ok()) << r1_tmpl.status().ToString();
    if (r1_tmpl.ok()) {
      out->r1_template = std::make_unique<tokenizer::ChatTemplate>(std::move(r1_tmpl).value());
    }
    return out;
  }();
  return assets;
}

inline ServedModel V3Model(const V3Assets& assets, int32_t max_model_len = 256) {
  ServedModel model;
  model.id = "deepseek-v3";
  model.created = 1700000000;
  model.tokenizer = assets.tokenizer.get();
  model.chat_template = assets.chat_template.get();
  model.max_model_len = max_model_len;
  model.vocab_size = 129280;  // config.json's; the tokenizer has 128815 ids
  return model;
}

#define DSI_REQUIRE_V3_ASSETS(assets)                                                              \
  const ::dsinfer::server::testing::V3Assets* assets = ::dsinfer::server::testing::LoadV3Assets(); \
  if (assets == nullptr) GTEST_SKIP() << V3Dir() << " absent: run fetch-test-assets.sh"

}  // namespace dsinfer::server::testing

#endif  // DSINFER_TESTS_UNIT_SERVER_TEST_MODEL_H_
