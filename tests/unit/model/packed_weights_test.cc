// The packed decode copies that ModelWeights::Bind makes (kernels/packed_layout.h, in one
// huge-page arena) against the tensors they copy, on tiny random models of every arch with
// the shapes widened to the K-quants' 256-element blocks, in every type with a packed layout
// (Q8_0, Q4_0, Q2_K .. Q6_K; and the Q5_0 / Q8_0 / F16 fallbacks of rows a K-quant cannot
// hold). Every Linear of the model, every expert of a stacked one and every head of MLA's
// attn_k_b / attn_v_b: the packed product equals the row-layout product on the same input, for
// 1 and 5 tokens. Both sum each block's integer dot exactly from the same quantised
// activations, so only the float order differs: |got - want| <= 1e-5 of the output's largest
// magnitude. A copy bound to the wrong tensor, expert or head, or packed wrongly, is off by its
// whole size. Types without a packed layout are copied as stored (RowLayoutMatricesAreCopied...).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/matmul.h"
#include "kernels/packed_matrix.h"
#include "model/load_model.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace dsinfer {
namespace {

using testing::RelativeDiff;
using testing::TempPath;

std::vector<float> Input(int64_t n, uint32_t seed) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    x[static_cast<size_t>(i)] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + seed));
  }
  return x;
}

// Visits every Linear of the model with a name for messages.
template <typename Fn>
void ForEachLinear(const ModelWeights& w, Fn&& fn) {
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& layer = w.layers[i];
    const std::string at = "layer " + std::to_string(i) + " ";
    if (layer.attention.has_value()) {
      const StandardAttentionWeights& a = *layer.attention;
      fn(a.q, at + "q");
      fn(a.k, at + "k");
      fn(a.v, at + "v");
      fn(a.o, at + "o");
    }
    if (layer.mla.has_value()) {
      const MlaWeights& m = *layer.mla;
      if (m.q.has_value()) fn(*m.q, at + "q");
      if (m.q_a.has_value()) fn(*m.q_a, at + "q_a");
      if (m.q_b.has_value()) fn(*m.q_b, at + "q_b");
      fn(m.kv_a_mqa, at + "kv_a_mqa");
      fn(m.k_b, at + "k_b");
      fn(m.v_b, at + "v_b");
      fn(m.o, at + "o");
    }
    const auto mlp = [&](const DenseMlpWeights& m, const std::string& name) {
      fn(m.gate, at + name + "gate");
      fn(m.up, at + name + "up");
      fn(m.down, at + name + "down");
    };
    if (layer.mlp.has_value()) mlp(*layer.mlp, "");
    if (layer.moe.has_value()) {
      const MoeWeights& m = *layer.moe;
      fn(m.router, at + "router");
      fn(m.gate_exps, at + "gate_exps");
      fn(m.up_exps, at + "up_exps");
      fn(m.down_exps, at + "down_exps");
      if (m.shared.has_value()) mlp(*m.shared, "shared ");
    }
  }
  fn(w.output, "output");
}

// `preset` with its widths at the K-quants' 256-element blocks.
StatusOr<ModelConfig> WidePreset(const char* preset) {
  StatusOr<ModelConfig> config = ModelPreset(preset);
  if (!config.ok()) return config;
  config->hidden_size = 256;
  config->intermediate_size = 512;
  if (!config->uses_mla()) config->head_dim = 64;
  if (config->is_moe()) config->moe_intermediate_size = 256;
  return config;
}

class PackedWeightsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PackedWeightsTest, EveryCopyMultipliesAsItsTensor) {
  ThreadPool pool(2);
  StatusOr<ModelConfig> config = WidePreset(GetParam());
  ASSERT_TRUE(config.ok());
  for (const DType dtype :
       {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kIQ4_NL,
        DType::kIQ4_XS, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    SCOPED_TRACE(DTypeName(dtype));
    TempPath file(std::string(GetParam()) + "_" + std::string(DTypeName(dtype)) + ".gguf");
    ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = dtype, .seed = 5}, file.path()).ok());
    StatusOr<Model> model = LoadModel(file.path(), {}, &pool);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const ModelWeights& w = model->weights();
    if (w.packed_bytes == 0) GTEST_SKIP() << "no packed bodies at this level";
    EXPECT_EQ(w.packed_arena.used(), w.packed_arena.capacity());

    int copies = 0;
    ForEachLinear(w, [&](const Linear& linear, const std::string& name) {
      SCOPED_TRACE(name);
      const int64_t n_in = linear.n_in();
      const int64_t rows = linear.n_out();
      const int64_t blocks = linear.view.shape.rank() == 3 ? linear.view.shape.dim(0) : 1;
      if (!linear.packed_experts.empty()) {
        ASSERT_EQ(static_cast<int64_t>(linear.packed_experts.size()), blocks);
      }
      if (!linear.packed.has_value() && linear.packed_experts.empty()) return;
      for (const int64_t n_tokens : {1, 5}) {
        const std::vector<float> x = Input(n_tokens * n_in, static_cast<uint32_t>(copies));
        for (int64_t b = 0; b < blocks; ++b) {
          std::vector<float> got(static_cast<size_t>(n_tokens * rows));
          std::vector<float> want(got.size());
          if (linear.packed.has_value()) {
            ASSERT_TRUE(linear.Apply(x, n_tokens, got, &pool).ok());
          } else {
            ASSERT_TRUE(
                kernels::MatMulPacked(linear.ExpertOperand(b), x, n_tokens, got, &pool).ok());
          }
          ASSERT_TRUE(
              kernels::MatMulRows(linear.view, b * rows, rows, x, n_tokens, want, &pool).ok());
          EXPECT_LE(RelativeDiff(got, want), 1e-5)
              << "block " << b << " of " << blocks << ", " << n_tokens << " tokens";
        }
      }
      ++copies;
    });
    EXPECT_GT(copies, 0);
  }
}

// Matrices of a type without a packed layout are copied as stored into the same arena, off the
// page cache's 4 KiB pages: the same bytes at another address, the reservation used exactly,
// and nothing copied when packing is off.
TEST_P(PackedWeightsTest, RowLayoutMatricesAreCopiedIntoTheArena) {
  ThreadPool pool(2);
  StatusOr<ModelConfig> config = WidePreset(GetParam());
  ASSERT_TRUE(config.ok());
  for (const DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kIQ2_XXS}) {
    SCOPED_TRACE(DTypeName(dtype));
    TempPath file(std::string(GetParam()) + "_rows_" + std::string(DTypeName(dtype)) + ".gguf");
    ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = dtype, .seed = 7}, file.path()).ok());
    StatusOr<Model> copied = LoadModel(file.path(), {}, &pool);
    StatusOr<Model> in_place = LoadModel(file.path(), {.pack_for_decode = false}, &pool);
    ASSERT_TRUE(copied.ok() && in_place.ok());
    std::vector<const Linear*> in_place_linears;
    ForEachLinear(in_place->weights(), [&](const Linear& linear, const std::string&) {
      in_place_linears.push_back(&linear);
    });
    size_t i = 0;
    int row_copies = 0;
    ForEachLinear(copied->weights(), [&](const Linear& linear, const std::string& name) {
      SCOPED_TRACE(name);
      ASSERT_LT(i, in_place_linears.size());
      const TensorView& stored = in_place_linears[i++]->view;
      ASSERT_EQ(linear.view.bytes.size(), stored.bytes.size());
      if (linear.packed.has_value() || !linear.packed_experts.empty()) return;
      if (name == "output" && config->tie_word_embeddings) return;  // token_embd, read by row
      EXPECT_NE(linear.view.bytes.data(), stored.bytes.data()) << "read in place";
      EXPECT_TRUE(
          std::equal(linear.view.bytes.begin(), linear.view.bytes.end(), stored.bytes.begin()));
      ++row_copies;
    });
    EXPECT_GT(row_copies, 0);
    const HugePageArena& arena = copied->weights().packed_arena;
    EXPECT_GT(arena.used(), 0U);
    EXPECT_EQ(arena.used(), arena.capacity());
    EXPECT_EQ(in_place->weights().packed_arena.capacity(), 0U);
  }
}

INSTANTIATE_TEST_SUITE_P(WideTinyModels, PackedWeightsTest,
                         ::testing::Values("tiny-llama", "tiny-qwen2", "tiny-deepseek",
                                           "tiny-deepseek2", "tiny-v2-lite", "tiny-v2"),
                         testing::PresetTestName);

}  // namespace
}  // namespace dsinfer
