// random-model files: readable, in the layout of their config, reproducible from the seed,
// with values of the stated scale and llama3 rope divisors computed as llama.cpp does.
#include "model/random_model.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "model/model_presets.h"
#include "model/tensor_storage_type.h"
#include "model_test_util.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

using testing::TempPath;

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(RandomModelTest, FileHoldsTheLayoutInTheChosenTypes) {
  for (const char* preset :
       {"tiny-llama", "tiny-qwen2", "tiny-deepseek", "tiny-deepseek2", "tiny-v2-lite", "tiny-v2"}) {
    for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                        DType::kQ4_K, DType::kQ6_K}) {
      SCOPED_TRACE(std::string(preset) + " " + std::string(DTypeName(dtype)));
      const ModelConfig config = *ModelPreset(preset);
      TempPath file("layout.gguf");
      StatusOr<RandomModelSummary> summary =
          WriteRandomGguf(config, {.dtype = dtype, .seed = 1}, file.path());
      ASSERT_TRUE(summary.ok()) << summary.status().ToString();
      StatusOr<GgufFile> gguf = GgufFile::Open(file.path());
      ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
      EXPECT_EQ(gguf->file_size(), summary->file_bytes);
      const std::vector<TensorSpec> layout = BuildTensorLayout(config);
      ASSERT_EQ(gguf->tensors().size(), layout.size());
      for (size_t i = 0; i < layout.size(); ++i) {
        const GgufTensorInfo& t = gguf->tensors()[i];
        EXPECT_EQ(t.name, layout[i].gguf_name);
        EXPECT_EQ(std::vector<int64_t>(t.dims().begin(), t.dims().end()), layout[i].ne);
        EXPECT_EQ(t.dtype, StorageTypeFor(layout[i], dtype)) << t.name;
      }
      EXPECT_EQ(static_cast<int64_t>(gguf->total_parameters()), summary->parameters);
    }
  }
}

TEST(RandomModelTest, SameSeedSameBytesOtherSeedOtherValues) {
  const ModelConfig config = *ModelPreset("tiny-deepseek2");
  TempPath a("seed_a.gguf"), b("seed_b.gguf"), c("seed_c.gguf");
  ASSERT_TRUE(WriteRandomGguf(config, {.dtype = DType::kQ4_K, .seed = 5}, a.path()).ok());
  ASSERT_TRUE(WriteRandomGguf(config, {.dtype = DType::kQ4_K, .seed = 5}, b.path()).ok());
  ASSERT_TRUE(WriteRandomGguf(config, {.dtype = DType::kQ4_K, .seed = 6}, c.path()).ok());
  const std::vector<char> bytes_a = ReadAll(a.path());
  EXPECT_FALSE(bytes_a.empty());
  EXPECT_TRUE(bytes_a == ReadAll(b.path()));
  EXPECT_FALSE(bytes_a == ReadAll(c.path()));
}

TEST(RandomModelTest, ValuesHaveTheInitScale) {
  const ModelConfig config = *ModelPreset("tiny-deepseek");
  TempPath file("values.gguf");
  ASSERT_TRUE(WriteRandomGguf(config, {.dtype = DType::kF32, .seed = 3}, file.path()).ok());
  StatusOr<GgufFile> gguf = GgufFile::Open(file.path());
  ASSERT_TRUE(gguf.ok());
  const auto stats = [&](const char* name) {
    const GgufTensorInfo* t = gguf->FindTensor(name);
    EXPECT_NE(t, nullptr) << name;
    const auto* v = reinterpret_cast<const float*>(t->view.bytes.data());
    const int64_t n = t->num_elements();
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += v[i];
    const double mean = sum / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
    return std::pair{mean, std::sqrt(sq / static_cast<double>(n))};
  };
  // 32768 samples: the std estimate is within ~1% (4 sigma ~ 2%); allow 5%.
  const auto [embd_mean, embd_std] = stats("token_embd.weight");
  EXPECT_NEAR(embd_mean, 0.0, 0.001);
  EXPECT_NEAR(embd_std, 0.02, 0.001);
  const auto [exps_mean, exps_std] = stats("blk.1.ffn_gate_exps.weight");
  EXPECT_NEAR(exps_std, 0.02, 0.001);
  const auto [norm_mean, norm_std] = stats("blk.0.attn_norm.weight");
  EXPECT_NEAR(norm_mean, 1.0, 0.01);  // 64 values of 1 + noise(0.02)
  EXPECT_GT(norm_std, 0.005);
}

TEST(RandomModelTest, RopeFreqsAreLlama3Divisors) {
  const ModelConfig config = *ModelPreset("r1-distill-llama-8b");
  const std::vector<TensorSpec> layout = BuildTensorLayout(config);
  ASSERT_EQ(layout[1].gguf_name, "rope_freqs.weight");
  std::vector<float> divisors(64);
  FillRandomValues(layout[1], config, /*seed=*/0, 0, divisors);
  // Reference §3.8: 29 frequencies unchanged, 29 divided by 8, 6 blended.
  int ones = 0, eights = 0;
  for (float d : divisors) {
    ones += d == 1.0F;
    eights += d == 8.0F;
  }
  EXPECT_EQ(ones, 29);
  EXPECT_EQ(eights, 29);
  // inv_freq'[63] = 500000^(-126/128) / 8 = 3.0689260e-07.
  EXPECT_NEAR(std::pow(500000.0, -126.0 / 128) / divisors[63], 3.0689260e-07, 1e-13);
  for (float d : divisors) EXPECT_TRUE(d >= 1.0F && d <= 8.0F);
}

TEST(RandomModelTest, RefusesActivationOnlyTypesAndBadConfigs) {
  ModelConfig config = *ModelPreset("tiny-llama");
  TempPath file("refused.gguf");
  EXPECT_EQ(WriteRandomGguf(config, {.dtype = DType::kQ8_K}, file.path()).status().code(),
            StatusCode::kInvalidArgument);
  config.num_attention_heads = 3;
  EXPECT_EQ(WriteRandomGguf(config, {}, file.path()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadAll(file.path()).empty());           // nothing written
  EXPECT_TRUE(ReadAll(file.path() + ".tmp").empty());  // nor left behind
}

}  // namespace
}  // namespace dsinfer
