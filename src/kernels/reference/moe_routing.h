// MoE router, scalar reference: which k experts each token goes to, and with what weights.
//
// Input is the router logits W_gate x, computed in fp32 (G16: small differences flip choices
// near ties). The variants (shared/reference/deepseek-models.md §3.10, G5, G6):
//
//   model          scoring  topk_method           group score         norm  scale
//   MoE-16B        softmax  greedy                -                   no    1
//   V2-Lite        softmax  greedy                -                   no    1
//   V2             softmax  group_limited_greedy  max of group        no    16
//   V3 / R1        sigmoid  noaux_tc              sum of top-2 biased yes   2.5
//
// Per token:
//   1. s = softmax(logits) or sigmoid(logits), per scoring_func.
//   2. selection scores c = s + e_score_correction_bias (noaux_tc), else c = s.
//   3. grouped methods: group score g_j (max of c, or sum of the two largest c, per method);
//      keep the topk_group best groups; experts of the other groups get c = -inf (reference
//      and llama.cpp semantics; HF uses 0.0, which differs when few candidates are positive).
//   4. the k experts with the largest c.
//   5. weights w_e = s_e: the UNBIASED score; the bias only selects (G6).
//   6. norm_topk_prob: w /= (sum w + 1e-20), as HF.
//   7. w *= routed_scaling_factor, always, after 6 (HF native V2/V3 and the DeepSeek
//      reference; HF remote V2 code scales only when not normalising, which no released
//      config distinguishes).
//
// Ties (equal scores or group scores) go to the lower index, so results are deterministic.
// Output rows list the k experts in descending order of c. Arithmetic: softmax and sigmoid in
// double rounded to float; c = s + b, group sums and comparisons in float as HF does in fp32;
// normalisation and scaling in double, rounded to float.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_KERNELS_REFERENCE_MOE_ROUTING_H_
#define DSINFER_KERNELS_REFERENCE_MOE_ROUTING_H_

#include <cstdint>
#include <span>

#include "base/status.h"

namespace dsinfer {

enum class MoeScoringFunc { kSoftmax, kSigmoid };  // config.json scoring_func

enum class MoeTopkMethod {  // config.json topk_method
  kGreedy,                  // "greedy": top-k over all experts
  kGroupLimitedGreedy,      // "group_limited_greedy": groups ranked by their max score
  kNoauxTc,                 // "noaux_tc": biased scores, groups ranked by their top-2 sum
};

// Field names follow config.json.
struct MoeRoutingConfig {
  int n_routed_experts = 0;     // E
  int num_experts_per_tok = 0;  // k
  MoeScoringFunc scoring_func = MoeScoringFunc::kSoftmax;
  MoeTopkMethod topk_method = MoeTopkMethod::kGreedy;
  int n_group = 1;     // grouped methods: E / n_group experts per group
  int topk_group = 1;  // grouped methods: groups kept per token
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
};

// InvalidArgument naming the config.json field when the routing cannot be run: k outside
// [1, E], n_group not dividing E, topk_group outside [1, n_group], fewer than k experts in
// topk_group groups, noaux_tc groups of fewer than 2 experts, a scale that is not > 0.
Status ValidateMoeRoutingConfig(const MoeRoutingConfig& config);

// Routes n_tokens tokens. router_logits is [n_tokens, E]; correction_bias is
// e_score_correction_bias [E] for noaux_tc and must be empty otherwise; expert_ids and
// expert_weights are [n_tokens, k]. Errors: the config is invalid, a size does not match, or a
// logit is NaN (the message names the token and expert). Outputs are unspecified on error.
Status RouteTokens(const MoeRoutingConfig& config, std::span<const float> router_logits,
                   std::span<const float> correction_bias, int64_t n_tokens,
                   std::span<int32_t> expert_ids, std::span<float> expert_weights);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_MOE_ROUTING_H_
