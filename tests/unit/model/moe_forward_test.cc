// MoeForward's batched experts (model/feed_forward.cc) on the MoE layers of tiny random models:
// a batch of tokens, whose experts read gathered inputs, gives each token what that token gets
// alone, where every selected expert reads x in place; and the experts split into waves of one
// expert each give bit-identically what one wave gives (the same products, accumulated in the
// same expert order).
//
// Tolerance of the batch against lone tokens: 1e-5 of the largest output. The packed weights
// are batch-invariant, but the router of F32 weights and the F32 experts run the row layout's
// gemm for a batch and its matvec for a lone token, which sum in other orders.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/layers.h"
#include "model/load_model.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace dsinfer {
namespace {

using testing::TempPath;

class MoeForwardTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MoeForwardTest, BatchAndWavesGiveEachTokenItsLoneResult) {
  ThreadPool pool(2);
  StatusOr<ModelConfig> config = ModelPreset(GetParam());
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(config->is_moe());
  for (const DType dtype : {DType::kF32, DType::kQ8_0}) {
    SCOPED_TRACE(DTypeName(dtype));
    TempPath file(std::string(GetParam()) + "_moe_" + std::string(DTypeName(dtype)) + ".gguf");
    ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = dtype, .seed = 11}, file.path()).ok());
    StatusOr<Model> model = LoadModel(file.path(), {}, &pool);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const ModelConfig& c = model->config();
    const auto layer = std::find_if(model->weights().layers.begin(), model->weights().layers.end(),
                                    [](const LayerWeights& l) { return l.moe.has_value(); });
    ASSERT_NE(layer, model->weights().layers.end());
    const MoeWeights& moe = *layer->moe;

    // 2 and 3 tokens: experts that every token chose (read x in place) next to experts that
    // only some chose (read gathered rows) in one wave; 24: most experts in every wave.
    for (const int64_t n_tokens : {int64_t{2}, int64_t{3}, int64_t{24}}) {
      SCOPED_TRACE(::testing::Message() << n_tokens << " tokens");
      const int64_t d = c.hidden_size;
      std::vector<float> x(static_cast<size_t>(n_tokens * d));
      for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.61f * static_cast<float>(i));

      std::vector<float> batch(x.size());
      ASSERT_TRUE(MoeForward(moe, c, x, n_tokens, batch, &pool).ok());
      std::vector<float> waves(x.size());
      ASSERT_TRUE(MoeForward(moe, c, x, n_tokens, waves, &pool, /*wave_scratch_bytes=*/1).ok());
      for (size_t i = 0; i < batch.size(); ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(waves[i]), std::bit_cast<uint32_t>(batch[i]))
            << "output " << i;
      }

      double scale = 1e-30;
      for (const float v : batch) scale = std::max(scale, std::fabs(double{v}));
      for (int64_t t = 0; t < n_tokens; ++t) {
        const std::span<const float> row(x.data() + t * d, static_cast<size_t>(d));
        std::vector<float> alone(static_cast<size_t>(d));
        ASSERT_TRUE(MoeForward(moe, c, row, 1, alone, &pool).ok());
        for (int64_t i = 0; i < d; ++i) {
          EXPECT_NEAR(batch[static_cast<size_t>(t * d + i)], alone[static_cast<size_t>(i)],
                      1e-5 * scale)
              << "token " << t << " output " << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TinyMoeModels, MoeForwardTest,
                         ::testing::Values("tiny-deepseek", "tiny-deepseek2", "tiny-v2-lite",
                                           "tiny-v2"),
                         testing::PresetTestName);

}  // namespace
}  // namespace dsinfer
