// ModelWeights: every weight of one model bound to typed per-layer fields once at load, so the
// forward pass never looks a tensor up by name.
//
// Binding checks the store against the layout the config implies (model/tensor_layout.h): each
// tensor present, of the shape the config implies, of a type the kernels can multiply by;
// extra tensors (e.g. a GGUF's unused ones) are ignored. Messages name the tensor.
//
// Matrices become Linear: the stored view, plus a copy repacked for decode (kernels/
// packed_matrix.h) when the kernels have a packed layout for its type; a mapped matrix of a type
// the running level cannot pack (F32, F16, BF16, the lattice types) is copied as it is stored,
// and its view points at the copy, so that its products do not read the page cache's 4 KiB
// pages (a tied output, which is token_embd, stays in place); past
// BindOptions::row_copy_budget_bytes those rows are read in place instead. The copies share one
// huge-page arena (platform/huge_page_arena.h), sized exactly before the first. 1-D tensors
// (norm weights, biases, the V3 router bias) are widened to float vectors: they are small and read
// every step. A legacy MLA file's fused attn_kv_b is cut into the attn_k_b / attn_v_b the
// absorbed form multiplies by (F32 copies, as llama.cpp's converter would have split them).
//
// Thread safety: immutable after Bind; the views point into the WeightStore, which must
// outlive the ModelWeights.
#ifndef DSINFER_MODEL_MODEL_WEIGHTS_H_
#define DSINFER_MODEL_MODEL_WEIGHTS_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "kernels/packed_matrix.h"
#include "model/model_config.h"
#include "model/tensor_layout.h"
#include "model/weight_store.h"
#include "platform/huge_page_arena.h"
#include "platform/thread_pool.h"
#include "tensor/tensor_view.h"

namespace dsinfer {

// y = x W^T for a weight [n_out, n_in] (stacked expert tensors: [E, n_out, n_in]).
struct Linear {
  TensorView view;  // as stored, or a copy of those bytes in ModelWeights::packed_arena
  // Present for rank-2 weights whose type has a packed layout at the running ISA level; the
  // bytes live in ModelWeights::packed_arena.
  std::optional<kernels::PackedMatrixView> packed;
  // Stacked expert tensors [E, n_out, n_in]: each expert packed on its own, or empty.
  std::vector<kernels::PackedMatrixView> packed_experts;

  int64_t n_out() const { return view.shape.dim(view.shape.rank() - 2); }
  // The whole weight as a matmul operand: its packed copy, or its rows as stored.
  kernels::PackedMatrixView Operand() const;
  // Expert (or head) `e` of a stacked tensor, rows [e * n_out, (e + 1) * n_out), likewise.
  kernels::PackedMatrixView ExpertOperand(int64_t e) const;
  int64_t n_in() const { return view.shape.inner(); }

  // y [n_tokens, n_out] = x [n_tokens, n_in] W^T.
  Status Apply(std::span<const float> x, int64_t n_tokens, std::span<float> y,
               ThreadPool* pool) const;
};

// ys[i] = x W_i^T for linears that read the same x (q, k and v; gate and up): one
// quantisation of x and one parallel loop over all their packed rows
// (kernels::MatMulPackedBatch). Outputs as each one's Apply.
Status ApplySharedInput(std::span<const Linear* const> linears, std::span<const float> x,
                        int64_t n_tokens, std::span<const std::span<float>> ys, ThreadPool* pool);

struct StandardAttentionWeights {
  Linear q, k, v, o;
  std::vector<float> q_bias, k_bias, v_bias;  // qwen2; empty otherwise
};

struct MlaWeights {
  std::optional<Linear> q;         // no q-LoRA (V2-Lite)
  std::optional<Linear> q_a, q_b;  // q-LoRA (V2, V3)
  std::vector<float> q_a_norm;     // [rq] with q-LoRA
  Linear kv_a_mqa;                 // [rkv + dr, D]
  std::vector<float> kv_a_norm;    // [rkv]
  Linear k_b;                      // [H, rkv, dn]: head h's W_UK^T
  Linear v_b;                      // [H, dv, rkv]: head h's W_UV
  Linear o;                        // [D, H * dv]
};

struct DenseMlpWeights {
  Linear gate, up, down;
};

struct MoeWeights {
  Linear router;                          // [E, D]
  std::vector<float> expert_bias;         // [E] for noaux_tc routing; empty otherwise
  Linear gate_exps, up_exps, down_exps;   // [E, Fe, D], [E, Fe, D], [E, D, Fe]
  std::optional<DenseMlpWeights> shared;  // width n_shared_experts * Fe
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  std::optional<StandardAttentionWeights> attention;
  std::optional<MlaWeights> mla;
  std::optional<DenseMlpWeights> mlp;
  std::optional<MoeWeights> moe;
};

struct ModelWeights {
  TensorView token_embd;             // [V, D]
  std::vector<float> rope_divisors;  // llama3 rope_freqs.weight; empty when absent
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;
  Linear output;               // [V, D] (token_embd when tied)
  uint64_t packed_bytes = 0;   // memory taken by repacked copies
  HugePageArena packed_arena;  // where they live, with the copied rows of the other matrices

  struct BindOptions {
    bool pack_for_decode = true;  // false: every matrix read in place, as stored
    // The most bytes the copies may take: past it, the rows of the types without a packed layout
    // are read in place (a file larger than memory still runs from the page cache).
    size_t row_copy_budget_bytes = std::numeric_limits<size_t>::max();
  };
  // `store` may gain the derived attn_k_b / attn_v_b of a fused-kv_b MLA file.
  static StatusOr<ModelWeights> Bind(const ModelConfig& config, WeightStore& store,
                                     const BindOptions& options, ThreadPool* pool);
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_MODEL_WEIGHTS_H_
