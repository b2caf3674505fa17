// Random HF checkpoints (`dsinfer random-model --format hf`): config.json plus safetensors in
// the tensor names, shapes and dtypes of the real checkpoints of each family
// (shared/reference/deepseek-models.md §2), for testing the HF loader and `dsinfer convert`
// without downloads.
//
// Values: the HF tensors hold exactly the values WriteRandomGguf would write for the same
// config, seed and layout (random_model.h), moved to where the HF checkpoint keeps them
// (hf_tensor_map.h: q/k rows un-permuted for llama/deepseek, experts unstacked, attn_k_b and
// attn_v_b merged back into kv_b_proj), then rounded to the stored dtype. So converting the
// checkpoint to GGUF reproduces WriteRandomGguf's file: bit for bit from F32, up to the BF16 /
// F16 / FP8 rounding of each value otherwise. rope_freqs (llama3) has no HF tensor.
//
// dtypes:
//   * F32, F16, BF16: every tensor in that type, except V3's e_score_correction_bias (F32 in
//     every real checkpoint);
//   * F8E4M3: DeepSeek-V3's FP8 checkpoint (§4): every linear weight inside a decoder layer
//     in FP8 e4m3 with a "<name>_scale_inv" F32 tensor of [ceil(out/128), ceil(in/128)] block
//     scales (DeepSeek's quantiser: scale = block amax / 448), embeddings, lm_head, norms and
//     the router in BF16; config.json gets V3's quantization_config.
// V3's MTP layers (num_nextn_predict_layers > 0) are written as the real checkpoint stores
// them, as layers num_hidden_layers.. with their extra tensors (enorm, hnorm, eh_proj,
// embed_tokens, shared_head), with random values: loaders must skip them.
//
// Files: <dir>/config.json, and <dir>/model.safetensors, or when the tensors exceed
// max_shard_bytes, model-0000i-of-0000n.safetensors shards with model.safetensors.index.json
// (a weight and its scale stay in one shard). Each file is written under "<name>.tmp" and
// renamed when complete. Memory: a few MiB of rows at a time, whatever the model size.
//
// Thread safety: none needed; functions share no state.
#ifndef DSINFER_MODEL_RANDOM_HF_MODEL_H_
#define DSINFER_MODEL_RANDOM_HF_MODEL_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "model/model_config.h"
#include "model/tensor_layout.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct RandomHfOptions {
  DType dtype = DType::kBF16;  // F32, F16, BF16 or F8E4M3
  uint64_t seed = 0;
  // The GGUF layout whose values the tensors carry: kv_b_proj is rebuilt from attn_k_b and
  // attn_v_b (kSplit) or is attn_kv_b's values (kFused).
  TensorLayoutOptions layout;
  uint64_t max_shard_bytes = uint64_t{2} << 30;
};

struct RandomHfSummary {
  int64_t tensors = 0;     // HF tensors, scale tensors included
  int64_t parameters = 0;  // elements of the weights (not of scale tensors)
  uint64_t bytes = 0;      // all safetensors files together
  int64_t shards = 0;
};

// `dir` is created if missing; files already there with the same names are replaced.
StatusOr<RandomHfSummary> WriteRandomHf(const ModelConfig& config, const RandomHfOptions& options,
                                        const std::string& dir);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_RANDOM_HF_MODEL_H_
