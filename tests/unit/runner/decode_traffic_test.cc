// DecodeTrafficOf on tiny random models of a dense, a standard-attention MoE and two MLA MoE
// shapes: exact byte counts against a count written independently from the config (shapes of
// shared/reference/deepseek-models.md §2), in F32 (4 bytes an element) and Q8_0 (34 bytes per
// 32), with and without the packed decode copies; and, in Q4_K, whose copies are larger than
// its rows, that the count follows the copies (whole matrices and each selected expert's).
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "kernels/kernel_table.h"
#include "model/load_model.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "runner/decode_traffic.h"

namespace dsinfer::runner {
namespace {

struct TempFile {
  explicit TempFile(const std::string& name)
      : path(::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name) {}
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

// Bytes of a matrix of `elements` stored at bytes_num / bytes_den bytes an element.
struct ElementSize {
  int64_t bytes_num = 4;
  int64_t bytes_den = 1;
  int64_t Of(int64_t elements) const { return elements * bytes_num / bytes_den; }
};

struct Expected {
  int64_t per_token = 0;
  int64_t all = 0;
  int64_t routed = 0;
};

// The count from the config alone: every matrix as [n_out, n_in] elements.
Expected FromConfig(const ModelConfig& c, ElementSize m) {
  Expected e;
  const int64_t d = c.hidden_size;
  const auto both = [&](int64_t bytes) {
    e.per_token += bytes;
    e.all += bytes;
  };
  const auto vec = [&](int64_t n) { both(4 * n); };
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    vec(2 * d);  // attn_norm, ffn_norm
    const int64_t h = c.num_attention_heads;
    if (c.uses_mla()) {
      const int64_t q_head = c.qk_nope_head_dim + c.qk_rope_head_dim;
      if (c.q_lora_rank > 0) {
        both(m.Of(c.q_lora_rank * d) + m.Of(h * q_head * c.q_lora_rank));
        vec(c.q_lora_rank);
      } else {
        both(m.Of(h * q_head * d));
      }
      both(m.Of((c.kv_lora_rank + c.qk_rope_head_dim) * d));
      vec(c.kv_lora_rank);
      both(m.Of(h * c.kv_lora_rank * c.qk_nope_head_dim));  // attn_k_b
      both(m.Of(h * c.v_head_dim * c.kv_lora_rank));        // attn_v_b
      both(m.Of(d * h * c.v_head_dim));                     // attn_output
    } else {
      const int64_t q = h * c.head_dim;
      const int64_t kv = c.num_key_value_heads * c.head_dim;
      both(m.Of(q * d) + 2 * m.Of(kv * d) + m.Of(d * q));
      if (c.qkv_bias) vec(q + 2 * kv);
    }
    if (c.IsMoeLayer(i)) {
      both(m.Of(c.n_routed_experts * d));  // router
      if (c.has_expert_bias()) vec(c.n_routed_experts);
      const int64_t expert = 3 * m.Of(c.moe_intermediate_size * d);
      e.per_token += c.num_experts_per_tok * expert;
      e.routed += c.num_experts_per_tok * expert;
      e.all += c.n_routed_experts * expert;
      both(3 * m.Of(c.n_shared_experts * c.moe_intermediate_size * d));
    } else {
      both(3 * m.Of(c.intermediate_size * d));
    }
  }
  vec(d);                        // output_norm
  both(m.Of(c.vocab_size * d));  // output (or the tied token_embd)
  e.per_token += m.Of(d);        // one embedding row
  if (!c.tie_word_embeddings) e.all += m.Of(c.vocab_size * d);
  return e;
}

struct Case {
  const char* preset;
  DType dtype;
  ElementSize size;
  bool pack;
};

class DecodeTrafficTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeTrafficTest, MatchesTheConfig) {
  const Case& tc = GetParam();
  StatusOr<ModelConfig> config = ModelPreset(tc.preset);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const TempFile file(std::string(tc.preset) + ".gguf");
  ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = tc.dtype, .seed = 5}, file.path).ok());
  ThreadPool pool(2);
  StatusOr<Model> model = LoadModel(file.path, {.pack_for_decode = tc.pack}, &pool);
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  const DecodeTraffic t = DecodeTrafficOf(model->weights(), model->config());
  const Expected e = FromConfig(*config, tc.size);
  EXPECT_EQ(t.per_token(), e.per_token);
  EXPECT_EQ(t.all_weights, e.all);
  EXPECT_EQ(t.routed_experts, e.routed);
  EXPECT_EQ(t.embedding_row, tc.size.Of(config->hidden_size));
  if (tc.pack && tc.dtype == DType::kQ8_0 && kernels::Kernels().isa >= Isa::kAvx512) {
    EXPECT_GT(model->weights().packed_bytes, 0u);  // the packed path was taken
  }
  if (config->is_moe()) {
    // Only k of E experts are read: the per-token count is well under the model's bytes.
    EXPECT_GT(t.routed_experts, 0);
    EXPECT_LT(t.per_token(), t.all_weights);
    EXPECT_GT(t.routers, 0);
  } else {
    EXPECT_EQ(t.routed_experts, 0);
    EXPECT_EQ(t.routers, 0);
    EXPECT_GT(t.dense_mlp, 0);
  }
}

// Every matrix of the model with whether it is a stacked expert tensor.
template <typename Fn>
void ForEachLinear(const ModelWeights& w, Fn&& fn) {
  for (const LayerWeights& layer : w.layers) {
    if (layer.attention.has_value()) {
      const StandardAttentionWeights& a = *layer.attention;
      for (const Linear* m : {&a.q, &a.k, &a.v, &a.o}) fn(*m, false);
    }
    if (layer.mlp.has_value()) {
      for (const Linear* m : {&layer.mlp->gate, &layer.mlp->up, &layer.mlp->down}) fn(*m, false);
    }
    if (layer.moe.has_value()) {
      const MoeWeights& m = *layer.moe;
      fn(m.router, false);
      for (const Linear* e : {&m.gate_exps, &m.up_exps, &m.down_exps}) fn(*e, true);
      if (m.shared.has_value()) {
        for (const Linear* e : {&m.shared->gate, &m.shared->up, &m.shared->down}) fn(*e, false);
      }
    }
  }
  fn(w.output, false);
}

// Q4_K's packed copies are larger than its rows (+2.8 %): decode reads the copies, and the
// count must follow, for whole matrices and for the selected experts' own copies. Shapes
// widened to Q4_K's 256-element blocks.
class DecodeTrafficPackedTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DecodeTrafficPackedTest, CountsTheCopiesDecodeReads) {
  StatusOr<ModelConfig> config = ModelPreset(GetParam());
  ASSERT_TRUE(config.ok());
  config->hidden_size = 256;
  config->intermediate_size = 512;
  config->head_dim = 64;  // 4 heads
  if (config->is_moe()) config->moe_intermediate_size = 256;
  const TempFile file(std::string(GetParam()) + "_q4_k.gguf");
  ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = DType::kQ4_K, .seed = 9}, file.path).ok());
  ThreadPool pool(2);
  StatusOr<Model> packed = LoadModel(file.path, {.pack_for_decode = true}, &pool);
  StatusOr<Model> rows = LoadModel(file.path, {.pack_for_decode = false}, &pool);
  ASSERT_TRUE(packed.ok() && rows.ok());
  if (packed->weights().packed_bytes == 0) GTEST_SKIP() << "no packed Q4_K body at this level";

  // Row bytes of the matrices that have copies, and the copies' bytes, apart for experts.
  int64_t copied_rows = 0, expert_copies = 0;
  ForEachLinear(packed->weights(), [&](const Linear& m, bool experts) {
    if (m.packed.has_value() || !m.packed_experts.empty()) {
      copied_rows += static_cast<int64_t>(m.view.bytes.size());
    }
    if (experts) {
      ASSERT_EQ(static_cast<int64_t>(m.packed_experts.size()), config->n_routed_experts);
      for (const auto& e : m.packed_experts) {
        expert_copies += static_cast<int64_t>(e.bytes.size());
      }
    }
  });
  ASSERT_GT(copied_rows, 0);
  const auto copies = static_cast<int64_t>(packed->weights().packed_bytes);
  EXPECT_NEAR(static_cast<double>(copies) / static_cast<double>(copied_rows), 1.028, 0.01);
  // The copies share one arena, reserved exactly: each is rounded up to a cache line.
  const HugePageArena& arena = packed->weights().packed_arena;
  EXPECT_GE(arena.used(), static_cast<size_t>(copies));
  EXPECT_EQ(arena.used(), arena.capacity());

  const DecodeTraffic tp = DecodeTrafficOf(packed->weights(), packed->config());
  const DecodeTraffic tr = DecodeTrafficOf(rows->weights(), rows->config());
  EXPECT_EQ(tp.all_weights - tr.all_weights, copies - copied_rows);
  EXPECT_EQ(tp.vectors, tr.vectors);
  EXPECT_EQ(tp.embedding_row, tr.embedding_row);
  if (config->is_moe()) {
    // k of E experts, each in its copy.
    EXPECT_EQ(tp.routed_experts * config->n_routed_experts,
              expert_copies * config->num_experts_per_tok);
    EXPECT_GT(tp.routed_experts, tr.routed_experts);
  } else {
    // Dense: every matrix is read once per token, so the difference is all of the copies'.
    EXPECT_EQ(tp.per_token() - tr.per_token(), copies - copied_rows);
  }
}

INSTANTIATE_TEST_SUITE_P(WideTinyModels, DecodeTrafficPackedTest,
                         ::testing::Values("tiny-llama", "tiny-deepseek"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(
    TinyModels, DecodeTrafficTest,
    ::testing::Values(Case{"tiny-qwen2", DType::kF32, {4, 1}, true},
                      Case{"tiny-llama", DType::kF32, {4, 1}, false},
                      Case{"tiny-deepseek", DType::kF32, {4, 1}, true},
                      Case{"tiny-deepseek2", DType::kF32, {4, 1}, true},
                      Case{"tiny-v2-lite", DType::kF32, {4, 1}, true},
                      // Q8_0: rows of 64 hold two blocks of 34 bytes; the packed copy (AVX-512)
                      // has exactly the bytes of the rows, so packing changes nothing.
                      Case{"tiny-qwen2", DType::kQ8_0, {34, 32}, true},
                      Case{"tiny-qwen2", DType::kQ8_0, {34, 32}, false}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      std::string name = std::string(param_info.param.preset) + "_" +
                         std::string(DTypeName(param_info.param.dtype)) +
                         (param_info.param.pack ? "_packed" : "_rows");
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace dsinfer::runner
