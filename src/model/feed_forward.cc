// The feed-forward blocks: dense SwiGLU (reference §3.2) and DeepSeek MoE (§3.10): a router
// picks num_experts_per_tok experts per token; each selected expert runs on the tokens that
// chose it (its weights are read once per step, whatever the number of tokens), the outputs
// are summed with the routing weights, and the shared experts run on every token.
#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/scratch_floats.h"
#include "kernels/elementwise.h"
#include "kernels/packed_matrix.h"
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

// One selected expert of a wave: the slots (token * k + choice) routed to it, in token order,
// and the first of its rows in the wave's buffers.
struct ExpertRun {
  int64_t expert;
  const std::vector<int64_t>* slots;
  int64_t first_row;
};

// The experts of `runs` (and the shared experts into `shared_out`, unless it is empty) through
// SwiGLU in two batches, every gate and up in one and every down in the other, so that a
// decode step waits on the threads three times per layer (the batches and the SiluMul between
// them) rather than four times per expert. Each run's outputs are then added to `out` with
// their routing weights, in expert order.
Status RunWave(const MoeWeights& w, std::span<const ExpertRun> runs, int64_t rows,
               std::span<const float> x, int64_t n_tokens, std::span<const float> route_weights,
               int64_t k, std::span<float> shared_out, std::span<float> out, ThreadPool* pool) {
  const int64_t d = w.down_exps.n_out();
  const int64_t width = w.gate_exps.n_out();
  const int64_t shared_width = shared_out.empty() ? 0 : w.shared->gate.n_out();
  // For errors only: "gate and up of experts 3, 17 and the shared experts" (the products in
  // that order).
  const auto of_experts = [&](std::string_view what) {
    std::string ids;
    for (const ExpertRun& r : runs) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", r.expert);
    return fmt::format("{} of experts {}{}", what, ids,
                       shared_out.empty() ? "" : " and the shared experts");
  };
  const auto rows_of = [](auto& v, int64_t first, int64_t count, int64_t row) {
    return std::span(v).subspan(static_cast<size_t>(first * row), static_cast<size_t>(count * row));
  };

  // Inputs: an expert that every token chose (each one of a decode step) reads x in place.
  int64_t gathered = 0;
  for (const ExpertRun& r : runs) {
    const auto m = static_cast<int64_t>(r.slots->size());
    if (m != n_tokens) gathered += m;
  }
  ScratchFloats xs_scratch(static_cast<size_t>(gathered * d));
  const std::span<float> xs = xs_scratch.span();
  std::vector<std::span<const float>> inputs;
  gathered = 0;
  for (const ExpertRun& r : runs) {
    const auto m = static_cast<int64_t>(r.slots->size());
    if (m == n_tokens) {
      inputs.emplace_back(x);
      continue;
    }
    for (int64_t j = 0; j < m; ++j) {
      const int64_t t = (*r.slots)[static_cast<size_t>(j)] / k;
      std::copy(x.begin() + t * d, x.begin() + (t + 1) * d, xs.begin() + (gathered + j) * d);
    }
    inputs.emplace_back(rows_of(xs, gathered, m, d));
    gathered += m;
  }

  const int64_t gate_rows = rows * width + n_tokens * shared_width;
  ScratchFloats g_scratch(static_cast<size_t>(gate_rows));
  ScratchFloats u_scratch(g_scratch.size());
  const std::span<float> g = g_scratch.span();
  const std::span<float> u = u_scratch.span();
  std::vector<kernels::PackedProduct> products;
  for (size_t i = 0; i < runs.size(); ++i) {
    const ExpertRun& r = runs[i];
    const auto m = static_cast<int64_t>(r.slots->size());
    products.push_back({.weight = w.gate_exps.ExpertOperand(r.expert),
                        .x = inputs[i],
                        .n_tokens = m,
                        .y = rows_of(g, r.first_row, m, width)});
    products.push_back({.weight = w.up_exps.ExpertOperand(r.expert),
                        .x = inputs[i],
                        .n_tokens = m,
                        .y = rows_of(u, r.first_row, m, width)});
  }
  const std::span<float> shared_g = std::span(g).subspan(static_cast<size_t>(rows * width));
  const std::span<float> shared_u = std::span(u).subspan(static_cast<size_t>(rows * width));
  if (!shared_out.empty()) {
    products.push_back(
        {.weight = w.shared->gate.Operand(), .x = x, .n_tokens = n_tokens, .y = shared_g});
    products.push_back(
        {.weight = w.shared->up.Operand(), .x = x, .n_tokens = n_tokens, .y = shared_u});
  }
  if (Status s = kernels::MatMulPackedBatch(products, pool); !s.ok()) {
    return s.WithContext(of_experts("gate and up"));
  }
  DSI_RETURN_IF_ERROR(kernels::SiluMul(g, u, g, pool));

  ScratchFloats ys_scratch(static_cast<size_t>(rows * d));
  const std::span<float> ys = ys_scratch.span();
  products.clear();
  for (const ExpertRun& r : runs) {
    const auto m = static_cast<int64_t>(r.slots->size());
    products.push_back({.weight = w.down_exps.ExpertOperand(r.expert),
                        .x = rows_of(g, r.first_row, m, width),
                        .n_tokens = m,
                        .y = rows_of(ys, r.first_row, m, d)});
  }
  if (!shared_out.empty()) {
    products.push_back(
        {.weight = w.shared->down.Operand(), .x = shared_g, .n_tokens = n_tokens, .y = shared_out});
  }
  if (Status s = kernels::MatMulPackedBatch(products, pool); !s.ok()) {
    return s.WithContext(of_experts("down"));
  }

  for (const ExpertRun& r : runs) {
    for (size_t j = 0; j < r.slots->size(); ++j) {
      const int64_t slot = (*r.slots)[j];
      const float weight = route_weights[static_cast<size_t>(slot)];
      float* dst = out.data() + (slot / k) * d;
      const float* src = ys.data() + (r.first_row + static_cast<int64_t>(j)) * d;
      for (int64_t i = 0; i < d; ++i) dst[i] += weight * src[i];
    }
  }
  return Status::Ok();
}

}  // namespace

Status DenseMlpForward(const DenseMlpWeights& w, std::span<const float> x, int64_t n_tokens,
                       std::span<float> out, ThreadPool* pool) {
  const int64_t width = w.gate.n_out();
  ScratchFloats g_scratch(static_cast<size_t>(n_tokens * width));
  ScratchFloats u_scratch(g_scratch.size());
  const std::span<float> g = g_scratch.span();
  const std::span<float> u = u_scratch.span();
  const Linear* gate_up[] = {&w.gate, &w.up};
  const std::span<float> gate_up_out[] = {g, u};
  DSI_RETURN_IF_ERROR(ApplySharedInput(gate_up, x, n_tokens, gate_up_out, pool));
  DSI_RETURN_IF_ERROR(kernels::SiluMul(g, u, g, pool));
  return w.down.Apply(g, n_tokens, out, pool);
}

Status MoeForward(const MoeWeights& w, const ModelConfig& c, std::span<const float> x,
                  int64_t n_tokens, std::span<float> out, ThreadPool* pool,
                  int64_t wave_scratch_bytes) {
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

  // The selected experts in waves of bounded scratch, in expert order; the shared experts
  // join the first wave, whose scratch they share, and are added last.
  std::fill(out.begin(), out.end(), 0.0f);
  // The shared experts' output, written whole by the first wave's down product.
  ScratchFloats shared_scratch(w.shared.has_value() ? static_cast<size_t>(n_tokens * d) : 0);
  const std::span<float> shared = shared_scratch.span();
  bool shared_pending = w.shared.has_value();
  constexpr auto kFloat = static_cast<int64_t>(sizeof(float));
  const int64_t row_bytes = 2 * kFloat * (d + w.gate_exps.n_out());  // xs, g, u, ys
  const int64_t shared_bytes =
      shared_pending ? n_tokens * kFloat * 2 * w.shared->gate.n_out() : 0;  // g, u
  std::vector<ExpertRun> wave;
  int64_t wave_rows = 0;
  const auto run_wave = [&]() -> Status {
    DSI_RETURN_IF_ERROR(RunWave(w, wave, wave_rows, x, n_tokens, weights, k,
                                shared_pending ? shared : std::span<float>(), out, pool));
    shared_pending = false;
    wave.clear();
    wave_rows = 0;
    return Status::Ok();
  };
  for (int64_t e = 0; e < n_experts; ++e) {
    const std::vector<int64_t>& slots = assigned[static_cast<size_t>(e)];
    if (slots.empty()) continue;
    const auto m = static_cast<int64_t>(slots.size());
    const int64_t scratch = (wave_rows + m) * row_bytes + (shared_pending ? shared_bytes : 0);
    if (!wave.empty() && scratch > wave_scratch_bytes) {
      DSI_RETURN_IF_ERROR(run_wave());
    }
    wave.push_back({.expert = e, .slots = &slots, .first_row = wave_rows});
    wave_rows += m;
  }
  if (!wave.empty() || shared_pending) DSI_RETURN_IF_ERROR(run_wave());
  if (w.shared.has_value()) DSI_RETURN_IF_ERROR(kernels::Add(out, shared, out));
  return Status::Ok();
}

}  // namespace dsinfer
