// TensorLayout: the exact list of weight tensors a ModelConfig implies, with the name and shape
// llama.cpp gives each in GGUF and the HF checkpoint tensor it comes from
// (shared/reference/deepseek-models.md §2 and §6.3). The loader checks files against it;
// `dsinfer random-model` writes it.
//
// Order: token_embd, rope_freqs (llama3 only), then per layer attention, FFN, then
// output_norm and output (absent when tied). Shapes are given both ways: `ne` in ggml order
// (ne[0] contiguous: a weight {in, out}) and `hf_shape` in PyTorch order of the HF tensor
// it is made from. Two GGUF tensors are not one HF tensor each:
//   * stacked experts (ffn_*_exps {.., .., E}) come from E HF tensors "...experts.{e}...";
//     hf_name keeps the literal "{e}" and hf_shape is one expert's.
//   * MLA's attn_k_b {dn, rkv, H} / attn_v_b {rkv, dv, H} are both cut from kv_b_proj
//     [H*(dn+dv), rkv] (reference §6.3); hf_shape is kv_b_proj's.
// rope_freqs.weight has no HF tensor (llama.cpp computes it from rope_scaling).
//
// Thread safety: pure functions.
#ifndef DSINFER_MODEL_TENSOR_LAYOUT_H_
#define DSINFER_MODEL_TENSOR_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace dsinfer {

class GgufFile;

// How an MLA GGUF stores kv_b_proj: split into attn_k_b + attn_v_b (llama.cpp since 2025,
// head_count_kv 1, *_mla keys) or as the single legacy attn_kv_b.
enum class MlaKvBForm { kSplit, kFused };

// kSplit iff the file has deepseek2.attention.key_length_mla (llama.cpp's is_mla rule).
MlaKvBForm MlaKvBFormOf(const GgufFile& file);

struct TensorLayoutOptions {
  MlaKvBForm kv_b_form = MlaKvBForm::kSplit;
};

// What a tensor is, for choices that depend on it (storage type, initial values).
enum class TensorRole {
  kEmbedding,   // token_embd
  kOutput,      // output (lm_head)
  kNorm,        // every RMSNorm weight: 1-D, stays F32
  kBias,        // qwen2 q/k/v biases: 1-D, stays F32
  kRouter,      // ffn_gate_inp: kept F32 by llama.cpp's converter and quantizer
  kExpertBias,  // exp_probs_b (V3 e_score_correction_bias): 1-D, F32
  kRopeFreqs,   // llama3 divisors: computed, not random; F32
  kWeight,      // every other matrix (attention, dense MLP, experts, shared experts)
};

enum class HfSource {
  kDirect,          // one HF tensor, same data (GGUF shape = reversed hf_shape)
  kStackedExperts,  // hf_name has "{e}"; one HF tensor per expert
  kSplitFromKvB,    // a slice of kv_b_proj, reordered
  kNone,            // computed (rope_freqs)
};

struct TensorSpec {
  std::string gguf_name;          // "blk.3.ffn_gate_exps.weight"
  std::vector<int64_t> ne;        // ggml order
  std::string hf_name;            // "model.layers.3.mlp.experts.{e}.gate_proj.weight"
  std::vector<int64_t> hf_shape;  // PyTorch order of that HF tensor
  HfSource hf_source = HfSource::kDirect;
  TensorRole role = TensorRole::kWeight;
  int64_t layer = -1;  // -1 for global tensors

  int64_t num_elements() const;
  int64_t rows() const;  // product of ne[1..]: rows of ne[0] elements
};

// The tensors of `config` (which must have passed Validate()).
std::vector<TensorSpec> BuildTensorLayout(const ModelConfig& config,
                                          const TensorLayoutOptions& options = {});

}  // namespace dsinfer

#endif  // DSINFER_MODEL_TENSOR_LAYOUT_H_
