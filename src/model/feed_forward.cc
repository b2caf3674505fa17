// The feed-forward blocks: dense SwiGLU (reference §3.2) and DeepSeek MoE (§3.10): a router
// picks num_experts_per_tok experts per token; each selected expert runs on the tokens that
// chose it (its weights are read once per step, whatever the number of tokens), the outputs
// are summed with the routing weights, and the shared experts run on every token.
#include <vector>

#include <fmt/format.h>

#include "kernels/elementwise.h"
#include "kernels/reference/moe_routing.h"
#include "model/layers.h"

namespace dsinfer {

namespace {

MoeRoutingConfig RoutingConfigOf(const ModelConfig& c) {
  MoeRoutingConfig r;
  r.n_routed_experts = static_cast<int>(c.n_routed_experts);
  r.num_experts_per_tok = static_cast<int>(c.num_experts_per_tok);
  r.scoring_func = c.scoring_func == ExpertScoring::kSigmoid ? MoeScoringFunc::kSigmoid
                                                             : MoeScoringFunc::kSoftmax;
  switch (c.topk_method) {
    case TopkMethod::kGreedy: r.topk_method = MoeTopkMethod::kGreedy; break;
    case TopkMethod::kGroupLimitedGreedy: r.topk_method = MoeTopkMethod::kGroupLimitedGreedy; break;
    case TopkMethod::kNoauxTc: r.topk_method = MoeTopkMethod::kNoauxTc; break;
  }
  r.n_group = c.n_group > 1 ? static_cast<int>(c.n_group) : 1;
  r.topk_group = c.n_group > 1 ? static_cast<int>(c.topk_group) : 1;
  r.norm_topk_prob = c.norm_topk_prob;
  r.routed_scaling_factor = c.routed_scaling_factor;
  return r;
}

// SwiGLU over rows [expert * width, (expert + 1) * width) of stacked gate/up (and the
// matching rows of down): y [n_tokens, D].
Status ExpertMlp(const Linear& gate, const Linear& up, const Linear& down, int64_t expert,
                 std::span<const float> x, int64_t n_tokens, std::span<float> y, ThreadPool* pool) {
  const int64_t width = gate.n_out();
  const int64_t d = down.n_out();
  std::vector<float> g(static_cast<size_t>(n_tokens * width));
  std::vector<float> u(g.size());
  DSI_RETURN_IF_ERROR(gate.ApplyRows(expert * width, width, x, n_tokens, g, pool));
  DSI_RETURN_IF_ERROR(up.ApplyRows(expert * width, width, x, n_tokens, u, pool));
  DSI_RETURN_IF_ERROR(kernels::SiluMul(g, u, g, pool));
  return down.ApplyRows(expert * d, d, g, n_tokens, y, pool);
}

}  // namespace

Status DenseMlpForward(const DenseMlpWeights& w, std::span<const float> x, int64_t n_tokens,
                       std::span<float> out, ThreadPool* pool) {
  const int64_t width = w.gate.n_out();
  std::vector<float> g(static_cast<size_t>(n_tokens * width));
  std::vector<float> u(g.size());
  const Linear* gate_up[] = {&w.gate, &w.up};
  const std::span<float> gate_up_out[] = {g, u};
  DSI_RETURN_IF_ERROR(ApplySharedInput(gate_up, x, n_tokens, gate_up_out, pool));
  DSI_RETURN_IF_ERROR(kernels::SiluMul(g, u, g, pool));
  return w.down.Apply(g, n_tokens, out, pool);
}

Status MoeForward(const MoeWeights& w, const ModelConfig& c, std::span<const float> x,
                  int64_t n_tokens, std::span<float> out, ThreadPool* pool) {
  const int64_t d = c.hidden_size;
  const int64_t n_experts = c.n_routed_experts;
  const int64_t k = c.num_experts_per_tok;

  // The router in fp32 (G16: small differences flip choices near ties).
  std::vector<float> logits(static_cast<size_t>(n_tokens * n_experts));
  DSI_RETURN_IF_ERROR(w.router.Apply(x, n_tokens, logits, pool));
  std::vector<int32_t> ids(static_cast<size_t>(n_tokens * k));
  std::vector<float> weights(ids.size());
  DSI_RETURN_IF_ERROR(
      RouteTokens(RoutingConfigOf(c), logits, w.expert_bias, n_tokens, ids, weights));

  // Tokens per expert, in token order.
  std::vector<std::vector<int64_t>> assigned(static_cast<size_t>(n_experts));
  for (int64_t i = 0; i < n_tokens * k; ++i) {
    assigned[static_cast<size_t>(ids[static_cast<size_t>(i)])].push_back(i);
  }

  std::fill(out.begin(), out.end(), 0.0f);
  std::vector<float> xs, ys;
  for (int64_t e = 0; e < n_experts; ++e) {
    const std::vector<int64_t>& slots = assigned[static_cast<size_t>(e)];
    if (slots.empty()) continue;
    const auto m = static_cast<int64_t>(slots.size());
    xs.resize(static_cast<size_t>(m * d));
    ys.resize(xs.size());
    for (int64_t j = 0; j < m; ++j) {
      const int64_t t = slots[static_cast<size_t>(j)] / k;
      std::copy(x.begin() + t * d, x.begin() + (t + 1) * d, xs.begin() + j * d);
    }
    DSI_RETURN_IF_ERROR(ExpertMlp(w.gate_exps, w.up_exps, w.down_exps, e, xs, m, ys, pool)
                            .WithContext(fmt::format("expert {}", e)));
    for (int64_t j = 0; j < m; ++j) {
      const int64_t slot = slots[static_cast<size_t>(j)];
      const float weight = weights[static_cast<size_t>(slot)];
      float* dst = out.data() + (slot / k) * d;
      const float* src = ys.data() + j * d;
      for (int64_t i = 0; i < d; ++i) dst[i] += weight * src[i];
    }
  }
  if (w.shared.has_value()) {
    std::vector<float> shared(static_cast<size_t>(n_tokens * d));
    DSI_RETURN_IF_ERROR(DenseMlpForward(*w.shared, x, n_tokens, shared, pool));
    DSI_RETURN_IF_ERROR(kernels::Add(out, shared, out));
  }
  return Status::Ok();
}

}  // namespace dsinfer
