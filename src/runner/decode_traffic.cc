#include "runner/decode_traffic.h"

#include <span>

namespace dsinfer::runner {

namespace {

// Bytes a matrix read whole (every row, or every head of MLA's attn_k_b / attn_v_b) costs:
// Linear::Apply / ExpertOperand take the packed copies when there are some.
int64_t ReadBytes(const Linear& linear) {
  if (linear.packed.has_value()) return static_cast<int64_t>(linear.packed->bytes.size());
  if (!linear.packed_experts.empty()) {
    int64_t bytes = 0;
    for (const auto& slice : linear.packed_experts) {
      bytes += static_cast<int64_t>(slice.bytes.size());
    }
    return bytes;
  }
  return static_cast<int64_t>(linear.view.bytes.size());
}

int64_t VectorBytes(std::span<const float> v) { return static_cast<int64_t>(v.size_bytes()); }

// Sums the bytes of the matrices of one part into both the per-token count and the total.
class Tally {
 public:
  explicit Tally(DecodeTraffic* traffic) : traffic_(traffic) {}

  void Matrix(const Linear& linear, int64_t* part) {
    *part += ReadBytes(linear);
    traffic_->all_weights += ReadBytes(linear);
  }
  void Vector(std::span<const float> v) {
    traffic_->vectors += VectorBytes(v);
    traffic_->all_weights += VectorBytes(v);
  }
  void Mlp(const DenseMlpWeights& w, int64_t* part) {
    Matrix(w.gate, part);
    Matrix(w.up, part);
    Matrix(w.down, part);
  }
  // k of the E equal experts of a stacked [E, ...] tensor: their packed copies when the
  // model made them (Linear::ExpertOperand then gives only those), else the stored slices.
  void Experts(const Linear& stacked, int64_t n_experts, int64_t k) {
    const auto expert = stacked.packed_experts.empty()
                            ? static_cast<int64_t>(stacked.view.bytes.size()) / n_experts
                            : static_cast<int64_t>(stacked.packed_experts.front().bytes.size());
    traffic_->routed_experts += expert * k;
    traffic_->all_weights += expert * n_experts;
  }

 private:
  DecodeTraffic* traffic_;
};

}  // namespace

DecodeTraffic DecodeTrafficOf(const ModelWeights& weights, const ModelConfig& config) {
  DecodeTraffic t;
  Tally tally(&t);
  for (const LayerWeights& layer : weights.layers) {
    tally.Vector(layer.attn_norm);
    tally.Vector(layer.ffn_norm);
    if (layer.attention.has_value()) {
      const StandardAttentionWeights& a = *layer.attention;
      for (const Linear* m : {&a.q, &a.k, &a.v, &a.o}) tally.Matrix(*m, &t.attention);
      for (const auto* b : {&a.q_bias, &a.k_bias, &a.v_bias}) tally.Vector(*b);
    }
    if (layer.mla.has_value()) {
      const MlaWeights& a = *layer.mla;
      for (const std::optional<Linear>* m : {&a.q, &a.q_a, &a.q_b}) {
        if (m->has_value()) tally.Matrix(**m, &t.attention);
      }
      for (const Linear* m : {&a.kv_a_mqa, &a.k_b, &a.v_b, &a.o}) tally.Matrix(*m, &t.attention);
      tally.Vector(a.q_a_norm);
      tally.Vector(a.kv_a_norm);
    }
    if (layer.mlp.has_value()) tally.Mlp(*layer.mlp, &t.dense_mlp);
    if (layer.moe.has_value()) {
      const MoeWeights& m = *layer.moe;
      tally.Matrix(m.router, &t.routers);
      tally.Vector(m.expert_bias);
      for (const Linear* e : {&m.gate_exps, &m.up_exps, &m.down_exps}) {
        tally.Experts(*e, config.n_routed_experts, config.num_experts_per_tok);
      }
      if (m.shared.has_value()) tally.Mlp(*m.shared, &t.shared_experts);
    }
  }
  tally.Vector(weights.output_norm);
  tally.Matrix(weights.output, &t.output);
  // The lookup reads one row; the table counts once towards the total even when the output
  // head is the same tensor (tied embeddings).
  t.embedding_row = weights.token_embd.row_bytes();
  if (weights.output.view.bytes.data() != weights.token_embd.bytes.data()) {
    t.all_weights += static_cast<int64_t>(weights.token_embd.bytes.size());
  }
  return t;
}

}  // namespace dsinfer::runner
