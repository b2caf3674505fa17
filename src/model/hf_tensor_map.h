// Where each element of a GGUF tensor lives in an HF checkpoint: the transforms llama.cpp's
// convert_hf_to_gguf.py applies (shared/reference/deepseek-models.md §3.4, §6.3), written as
// maps from GGUF positions to HF positions so that the HF loader (hf_weights.h) and the random
// HF writer (random_hf_model.h) use one definition and stay exact inverses.
//
//   * Direct tensors: HF [rows, cols] is GGUF {cols, rows}; element i is element i.
//   * q_proj / k_proj of arch llama and deepseek (weights and biases): rows permuted per head
//     so that GGUF's interleaved RoPE pairs (2j, 2j+1) are HF's half-split pairs (j, j + hd/2):
//     GGUF row h*hd + 2j <- HF row h*hd + j, GGUF row h*hd + 2j + 1 <- HF row h*hd + hd/2 + j.
//     qwen2 and deepseek2 are not permuted.
//   * Stacked experts {.., .., E}: expert e is the e-th slab; its HF tensor is "...experts.{e}...".
//   * MLA kv_b_proj [H*(dn+dv), rkv], head h = rows [h*(dn+dv), (h+1)*(dn+dv)):
//       attn_k_b {dn, rkv, H}: element (n, c, h) <- kv_b[h*(dn+dv) + n][c]        (K part,
//       transposed) attn_v_b {rkv, dv, H}: element (c, v, h) <- kv_b[h*(dn+dv) + dn + v][c]   (V
//       part)
//
// Thread safety: pure functions.
#ifndef DSINFER_MODEL_HF_TENSOR_MAP_H_
#define DSINFER_MODEL_HF_TENSOR_MAP_H_

#include <cstdint>

#include "model/model_config.h"
#include "model/tensor_layout.h"

namespace dsinfer {

// The head count whose rows llama.cpp permutes in `spec` (num_attention_heads for q,
// num_key_value_heads for k), or 0 when the tensor is not permuted.
int64_t QkPermutationHeads(const TensorSpec& spec, const ModelConfig& config);

// The HF row that GGUF row `gguf_row` of a permuted tensor comes from; `head_rows` = hd (a
// 1-D bias counts as rows of one element).
inline int64_t HfRowOfPermutedRow(int64_t gguf_row, int64_t head_rows) {
  const int64_t head = gguf_row / head_rows;
  const int64_t i = gguf_row % head_rows;
  return head * head_rows + (i % 2 == 0 ? i / 2 : head_rows / 2 + i / 2);
}

// The GGUF row HF row `hf_row` of a permuted tensor goes to (the inverse).
inline int64_t GgufRowOfPermutedHfRow(int64_t hf_row, int64_t head_rows) {
  const int64_t head = hf_row / head_rows;
  const int64_t j = hf_row % head_rows;
  const int64_t half = head_rows / 2;
  return head * head_rows + (j < half ? 2 * j : 2 * (j - half) + 1);
}

}  // namespace dsinfer

#endif  // DSINFER_MODEL_HF_TENSOR_MAP_H_
