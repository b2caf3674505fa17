#include "formats/file_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"

namespace dsinfer {
namespace {

using ::testing::HasSubstr;

TEST(GgufNamesTest, BuildsLlamaCppNames) {
  EXPECT_EQ(gguf::ArchKey("deepseek2", gguf::kKeyKvLoraRank), "deepseek2.attention.kv_lora_rank");
  EXPECT_EQ(gguf::LayerTensor(60, gguf::kFfnDownExps), "blk.60.ffn_down_exps.weight");
  EXPECT_EQ(gguf::LayerTensor(3, gguf::kExpProbsB, "bias"), "blk.3.exp_probs_b.bias");
}

TEST(FileReportTest, HumanUnits) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.50 KiB");
  EXPECT_EQ(HumanBytes(380ULL << 30), "380.00 GiB");
  EXPECT_EQ(HumanCount(999), "999");
  EXPECT_EQ(HumanCount(671'000'000'000ULL), "671.00 B");
}

TEST(FileReportTest, GgufReportHasHyperparametersTensorsAndTotals) {
  GgufWriter w;
  ASSERT_TRUE(
      w.AddKeyValue(std::string(gguf::kKeyArchitecture), GgufValue::String("deepseek2")).ok());
  ASSERT_TRUE(
      w.AddKeyValue(gguf::ArchKey("deepseek2", gguf::kKeyKvLoraRank), GgufValue::U32(512)).ok());
  std::vector<std::string> tokens(100, "Ġx");
  ASSERT_TRUE(w.AddKeyValue(std::string(gguf::kKeyTokens), GgufValue::StringArray(tokens)).ok());
  std::vector<std::byte> norm(16), q8(68);
  const int64_t ne_norm[] = {4};
  const int64_t ne_q8[] = {32, 2};
  ASSERT_TRUE(w.AddTensor(gguf::LayerTensor(0, gguf::kAttnNorm), DType::kF32, ne_norm, norm).ok());
  ASSERT_TRUE(w.AddTensor(gguf::LayerTensor(0, gguf::kAttnKB), DType::kQ8_0, ne_q8, q8).ok());
  const std::vector<std::byte> bytes = *w.WriteToBuffer();
  StatusOr<GgufFile> file = GgufFile::Parse(bytes, "mem.gguf", nullptr);
  ASSERT_TRUE(file.ok());

  const nlohmann::json report = GgufReport(*file);
  EXPECT_EQ(report["architecture"], "deepseek2");
  EXPECT_EQ(report["hyperparameters"]["attention.kv_lora_rank"], 512);
  EXPECT_EQ(report["metadata"][2]["length"], 100);
  EXPECT_EQ(report["metadata"][2]["value"].size(), kReportMaxArrayItems);
  EXPECT_EQ(report["tensors"][1]["shape"], nlohmann::json({2, 32}));
  EXPECT_EQ(report["tensors"][1]["ne"], nlohmann::json({32, 2}));
  EXPECT_EQ(report["totals"]["parameters"], 68);
  EXPECT_EQ(report["totals"]["bytes"], 84);
  EXPECT_EQ(report["totals"]["by_dtype"]["q8_0"]["bytes"], 68);

  const std::string text = RenderReportText(report);
  EXPECT_THAT(text, HasSubstr("attention.kv_lora_rank  512"));
  EXPECT_THAT(text, HasSubstr("[STRING x 100]"));
  EXPECT_THAT(text, HasSubstr("blk.0.attn_k_b.weight"));
  EXPECT_THAT(text, HasSubstr("totals: 2 tensors, 84 B (84 bytes), 68 parameters"));
  EXPECT_FALSE(report.contains("file_type"));  // no general.file_type
}

// general.file_type gets llama-quantize's name beside it; a number llama.cpp does not define
// (1024 is its "guessed") gets none.
TEST(FileReportTest, GgufReportNamesTheLlamaFileType) {
  for (const auto& [number, name] : std::vector<std::pair<uint32_t, const char*>>{
           {15, "Q4_K_M"}, {7, "Q8_0"}, {32, "BF16"}, {19, "IQ2_XXS"}, {1024, nullptr}}) {
    SCOPED_TRACE(number);
    GgufWriter w;
    ASSERT_TRUE(
        w.AddKeyValue(std::string(gguf::kKeyArchitecture), GgufValue::String("qwen2")).ok());
    ASSERT_TRUE(w.AddKeyValue(std::string(gguf::kKeyFileType), GgufValue::U32(number)).ok());
    const std::vector<std::byte> bytes = *w.WriteToBuffer();
    StatusOr<GgufFile> file = GgufFile::Parse(bytes, "mem.gguf", nullptr);
    ASSERT_TRUE(file.ok());
    const nlohmann::json report = GgufReport(*file);
    if (name == nullptr) {
      EXPECT_FALSE(report.contains("file_type"));
      EXPECT_THAT(RenderReportText(report), ::testing::Not(HasSubstr("file type:")));
    } else {
      EXPECT_EQ(report["file_type"], name);
      EXPECT_THAT(RenderReportText(report), HasSubstr(std::string("file type:     ") + name));
    }
  }
}

}  // namespace
}  // namespace dsinfer
