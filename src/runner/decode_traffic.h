// DecodeTraffic: the weight bytes one decoded token reads, by part of the model: the numerator
// of decode's bandwidth roofline (`dsinfer bench`: roofline tok/s = read GB/s / bytes per
// token).
//
// What one token (n_tokens = 1) reads, following Model::Forward:
//   * every matrix of attention (q/k/v/o, or MLA's q / q_a, q_b, kv_a_mqa, k_b, v_b, o), of the
//     dense MLPs, of the shared experts, the routers and the output head, in the form the
//     decode matvec reads: the packed copies where ModelWeights made them (one per matrix, or
//     one per head of k_b / v_b; Q4_K's are 2.8 % larger than the stored rows), else the
//     stored rows;
//   * of each MoE layer's stacked experts [E, ...], the num_experts_per_tok experts the router
//     picks, each in its packed copy where there is one, else k/E of the stacked tensor.
//     Routing picks k distinct experts per token and every expert has the same size, so this
//     is exact for every decode step, not an expectation; it equals the active-parameter
//     bytes of the routed experts (+2.8 % for packed Q4_K);
//   * one row of token_embd (the embedding lookup);
//   * the F32 vectors: norms, q/k/v biases, the V3 router bias.
// Not weights, so not counted here: the KV cache (KvStorage::BytesPerBlock per position) and
// activations.
//
// Thread safety: plain values; DecodeTrafficOf only reads the weights.
#ifndef DSINFER_RUNNER_DECODE_TRAFFIC_H_
#define DSINFER_RUNNER_DECODE_TRAFFIC_H_

#include <cstdint>

#include "model/model_config.h"
#include "model/model_weights.h"

namespace dsinfer::runner {

struct DecodeTraffic {
  // Bytes read per decoded token, by part.
  int64_t attention = 0;       // attention / MLA projections
  int64_t dense_mlp = 0;       // gate, up, down of the dense layers
  int64_t shared_experts = 0;  // MoE layers' shared experts
  int64_t routers = 0;         // MoE layers' ffn_gate_inp
  int64_t routed_experts = 0;  // the k selected experts of every MoE layer
  int64_t output = 0;          // the output head (token_embd when tied)
  int64_t embedding_row = 0;   // one row of token_embd
  int64_t vectors = 0;         // norms, biases, router bias (F32)

  // Every weight byte the model holds as decode reads it (all experts, the whole embedding
  // table once even when tied): what a dense model of this size would read per token.
  int64_t all_weights = 0;

  int64_t per_token() const {
    return attention + dense_mlp + shared_experts + routers + routed_experts + output +
           embedding_row + vectors;
  }
};

DecodeTraffic DecodeTrafficOf(const ModelWeights& weights, const ModelConfig& config);

}  // namespace dsinfer::runner

#endif  // DSINFER_RUNNER_DECODE_TRAFFIC_H_
