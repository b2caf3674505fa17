// llama.cpp's per-tensor mixtures (Q4_K_M, Q5_K_M, Q3_K_M, ...): a file quantised "as
// Q4_K_M" holds most matrices in Q4_K but gives more bits to the ones quantisation hurts
// most. These are the files users download, so `dsinfer quantize`, `convert`, `random-model`
// and HF loads (--hf-type) make them under llama.cpp's names, with the types llama-quantize
// gives (without an importance matrix), tensor for tensor:
//
//   * output.weight (and token_embd.weight when the file has no output.weight): Q6_K, or
//     Q8_0 when its rows do not fit the base type's blocks.
//   * attn_v / attn_kv_b / attn_qkv, counted in llama-quantize's order (i of n):
//       Q3_K_M: Q5_K for the first two, Q4_K after; Q3_K_L: Q5_K;
//       Q4_K_M, Q5_K_M: Q6_K where MoreBits(i, n); Q4_K_S: Q5_K for the first four.
//     A 70B-class model (llama or qwen2 with 80 layers; llama only with grouped KV heads)
//     raises Q3_K / Q4_K there to Q5_K; a model with exactly 8 experts stores them Q8_0.
//   * attn_k: Q8_0 in a model with exactly 8 experts.
//   * attn_output: with exactly 8 experts, Q5_K in Q3_K_S/M and Q4_K_S/M; otherwise Q4_K in
//     Q3_K_M and Q5_K in Q3_K_L.
//   * every ffn_down* (dense, experts, shared experts) in layer i of n (the layer from the name
//     in an MoE model; in a dense one the tensor's position among the ffn_down tensors in
//     llama-quantize's order; n is block_count):
//       Q3_K_M: Q5_K for i < n/16, else Q4_K; Q3_K_L: Q5_K;
//       Q4_K_M, Q5_K_M: Q6_K where MoreBits(i, n); Q4_K_S: Q5_K for i < n/8.
//   * everything else: the base type.
// MoreBits(i, n): i < n/8, or i >= 7n/8, or (i - n/8) % 3 == 2: the first and last eighth
// and every third layer between.
// A type the rows cannot hold then falls back as for plain types (tensor_storage_type.h):
// V2-Lite's 1408-wide expert ffn_down asked for Q6_K is stored Q8_0.
//
// llama.cpp's exceptions for architectures dsinfer does not run (Falcon) are not made, nor
// the mixtures that need an importance matrix (IQ*, Q2_K_S). Q2_K, Q6_K, IQ4_NL and IQ4_XS
// are also llama.cpp file types with a few raised tensors, but their names mean the plain
// type here.
//
// Thread safety: QuantMixturePlanner is used by one thread; the rest are pure functions.
#ifndef DSINFER_MODEL_QUANT_MIXTURE_H_
#define DSINFER_MODEL_QUANT_MIXTURE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "model/model_config.h"
#include "model/tensor_layout.h"
#include "tensor/dtype.h"

namespace dsinfer {

enum class QuantMixture : uint8_t {
  kQ3_K_S,
  kQ3_K_M,
  kQ3_K_L,
  kQ4_K_S,
  kQ4_K_M,
  kQ5_K_S,
  kQ5_K_M,
};

struct QuantMixtureInfo {
  QuantMixture mixture;
  std::string_view name;  // as llama-quantize spells it: "Q4_K_M"
  DType base;             // what most matrices get
  uint32_t file_type;     // general.file_type (llama_ftype)
};

const QuantMixtureInfo& GetQuantMixtureInfo(QuantMixture mixture);
// "q4_k_m", "Q4_K_M": any case.
std::optional<QuantMixture> QuantMixtureFromName(std::string_view name);
// "Q3_K_S, Q3_K_M, ...", for help texts and messages.
std::string QuantMixtureNames();

// What a mixture reads from the model (its GGUF metadata).
struct MixtureModel {
  // general.architecture; empty for one dsinfer does not run (only the 70B rule reads it).
  std::optional<ModelArch> arch;
  int64_t layers = 0;    // {arch}.block_count
  int64_t heads = 0;     // {arch}.attention.head_count (layer 0's if per layer)
  int64_t kv_heads = 0;  // {arch}.attention.head_count_kv; `heads` when absent
  int64_t experts = 0;   // {arch}.expert_count; 0 when absent (dense)
};

// Fails, naming the key, when general.architecture or block_count is missing or not a
// positive number.
StatusOr<MixtureModel> MixtureModelFromMetadata(std::span<const GgufKeyValue> metadata);
// The same facts from the metadata `config` is written with (gguf_metadata.h), for writers
// that make a file from a config (`convert`, `random-model`).
StatusOr<MixtureModel> MixtureModelFor(const ModelConfig& config,
                                       const TensorLayoutOptions& layout);

// The order llama-quantize visits (and writes) a file's tensors in, whatever their order in
// the file: those outside the layers first, then layer by layer ("blk.N."), each group by
// name. Indices into `names`.
std::vector<size_t> LlamaQuantizeOrder(std::span<const std::string_view> names);

// One file's mixture choices, made tensor by tensor in LlamaQuantizeOrder: llama.cpp counts
// the attn_v tensors (and a dense model's ffn_down tensors) as it meets them.
class QuantMixturePlanner {
 public:
  // `names`: every tensor of the file.
  QuantMixturePlanner(QuantMixture mixture, MixtureModel model,
                      std::span<const std::string_view> names);

  // The type the mixture gives the next weight matrix it decides, before any fallback.
  // Call it in LlamaQuantizeOrder, and not for matrices a user's rule decides (llama.cpp
  // does not count those). Fails for an MoE model's ffn_down whose name has no layer in range.
  StatusOr<DType> Next(std::string_view name, int64_t ne0);

 private:
  DType AttentionV();
  StatusOr<DType> FfnDown(std::string_view name);
  bool Is(QuantMixture m) const { return mixture_ == m; }

  QuantMixture mixture_;
  DType base_;
  MixtureModel model_;
  bool tied_output_ = true;  // no output.weight: token_embd is the output
  bool seventy_b_ = false;
  int64_t attn_v_count_ = 0;
  int64_t attn_v_seen_ = 0;
  int64_t ffn_down_seen_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_QUANT_MIXTURE_H_
