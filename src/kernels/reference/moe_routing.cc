#include "kernels/reference/moe_routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace dsinfer {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

bool IsGrouped(MoeTopkMethod method) { return method != MoeTopkMethod::kGreedy; }

// The first `k` indices of `scores` by descending score, ties to the lower index. `scores`
// holds no NaN (checked by the caller), so the comparison is a strict weak order.
void TopK(std::span<const float> scores, int k, std::vector<int32_t>& order) {
  order.resize(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  order.resize(static_cast<size_t>(k));
}

// Step 1: softmax or sigmoid in double, rounded to float.
void Score(MoeScoringFunc func, std::span<const float> logits, std::span<float> scores) {
  if (func == MoeScoringFunc::kSigmoid) {
    for (size_t e = 0; e < logits.size(); ++e) {
      scores[e] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logits[e]))));
    }
    return;
  }
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  std::vector<double> exps(logits.size());
  for (size_t e = 0; e < logits.size(); ++e) {
    exps[e] = std::exp(static_cast<double>(logits[e]) - max);
    sum += exps[e];
  }
  for (size_t e = 0; e < logits.size(); ++e) scores[e] = static_cast<float>(exps[e] / sum);
}

// Step 3: group score per the method, on the selection scores c.
float GroupScore(MoeTopkMethod method, std::span<const float> group) {
  if (method == MoeTopkMethod::kGroupLimitedGreedy) {
    return *std::max_element(group.begin(), group.end());
  }
  float first = kMasked;
  float second = kMasked;
  for (const float v : group) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) {
      second = v;
    }
  }
  return first + second;  // float, as HF's topk(2).sum() in fp32
}

Status CheckSize(std::string_view name, size_t got, int64_t want) {
  if (static_cast<int64_t>(got) == want) return Status::Ok();
  return InvalidArgumentError(
      fmt::format("RouteTokens: {} has {} values, expected {}", name, got, want));
}

}  // namespace

Status ValidateMoeRoutingConfig(const MoeRoutingConfig& c) {
  if (c.n_routed_experts <= 0) {
    return InvalidArgumentError(
        fmt::format("n_routed_experts must be > 0, got {}", c.n_routed_experts));
  }
  if (c.num_experts_per_tok < 1 || c.num_experts_per_tok > c.n_routed_experts) {
    return InvalidArgumentError(
        fmt::format("num_experts_per_tok ({}) must be in [1, n_routed_experts = {}]",
                    c.num_experts_per_tok, c.n_routed_experts));
  }
  if (!std::isfinite(c.routed_scaling_factor) || c.routed_scaling_factor <= 0.0) {
    return InvalidArgumentError(
        fmt::format("routed_scaling_factor must be > 0, got {}", c.routed_scaling_factor));
  }
  if (!IsGrouped(c.topk_method)) return Status::Ok();
  if (c.n_group < 1 || c.n_routed_experts % c.n_group != 0) {
    return InvalidArgumentError(fmt::format("n_group ({}) must divide n_routed_experts ({})",
                                            c.n_group, c.n_routed_experts));
  }
  if (c.topk_group < 1 || c.topk_group > c.n_group) {
    return InvalidArgumentError(
        fmt::format("topk_group ({}) must be in [1, n_group = {}]", c.topk_group, c.n_group));
  }
  const int group_size = c.n_routed_experts / c.n_group;
  if (c.num_experts_per_tok > c.topk_group * group_size) {
    return InvalidArgumentError(fmt::format(
        "num_experts_per_tok ({}) exceeds the {} experts in topk_group ({}) groups of {}",
        c.num_experts_per_tok, c.topk_group * group_size, c.topk_group, group_size));
  }
  if (c.topk_method == MoeTopkMethod::kNoauxTc && group_size < 2) {
    return InvalidArgumentError(
        fmt::format("n_group ({}) leaves {} expert per group; noaux_tc ranks groups by their top 2",
                    c.n_group, group_size));
  }
  return Status::Ok();
}

Status RouteTokens(const MoeRoutingConfig& config, std::span<const float> router_logits,
                   std::span<const float> correction_bias, int64_t n_tokens,
                   std::span<int32_t> expert_ids, std::span<float> expert_weights) {
  DSI_RETURN_IF_ERROR(ValidateMoeRoutingConfig(config));
  const int64_t n_experts = config.n_routed_experts;
  const int k = config.num_experts_per_tok;
  if (n_tokens < 0) {
    return InvalidArgumentError(fmt::format("RouteTokens: n_tokens {} < 0", n_tokens));
  }
  DSI_RETURN_IF_ERROR(CheckSize("router_logits", router_logits.size(), n_tokens * n_experts));
  DSI_RETURN_IF_ERROR(CheckSize("expert_ids", expert_ids.size(), n_tokens * k));
  DSI_RETURN_IF_ERROR(CheckSize("expert_weights", expert_weights.size(), n_tokens * k));
  const bool biased = config.topk_method == MoeTopkMethod::kNoauxTc;
  DSI_RETURN_IF_ERROR(
      CheckSize("e_score_correction_bias", correction_bias.size(), biased ? n_experts : 0));
  for (size_t e = 0; e < correction_bias.size(); ++e) {
    if (!std::isfinite(correction_bias[e])) {
      return InvalidArgumentError(
          fmt::format("e_score_correction_bias[{}] is not finite ({})", e, correction_bias[e]));
    }
  }
  for (size_t i = 0; i < router_logits.size(); ++i) {
    if (!std::isfinite(router_logits[i])) {
      return InvalidArgumentError(fmt::format(
          "router logit of token {}, expert {} is {}", static_cast<int64_t>(i) / n_experts,
          static_cast<int64_t>(i) % n_experts, router_logits[i]));
    }
  }

  const int64_t group_size = IsGrouped(config.topk_method)
                                 ? config.n_routed_experts / config.n_group
                                 : config.n_routed_experts;
  const int64_t n_group = n_experts / group_size;
  // Per-token scratch, allocated once.
  std::vector<float> scores(static_cast<size_t>(n_experts));  // s
  std::vector<float> choice(static_cast<size_t>(n_experts));  // c, then masked
  std::vector<float> group_scores(static_cast<size_t>(n_group));
  std::vector<char> keep(static_cast<size_t>(n_group));
  std::vector<int32_t> order;
  for (int64_t t = 0; t < n_tokens; ++t) {
    Score(config.scoring_func, router_logits.subspan(t * n_experts, n_experts), scores);
    for (int64_t e = 0; e < n_experts; ++e) {
      choice[e] = biased ? scores[e] + correction_bias[e] : scores[e];
    }
    if (IsGrouped(config.topk_method)) {
      const std::span<const float> all(choice);
      for (int64_t g = 0; g < n_group; ++g) {
        group_scores[g] = GroupScore(config.topk_method, all.subspan(g * group_size, group_size));
      }
      TopK(group_scores, config.topk_group, order);
      std::fill(keep.begin(), keep.end(), 0);
      for (const int32_t g : order) keep[g] = 1;
      for (int64_t g = 0; g < n_group; ++g) {
        if (!keep[g]) std::fill_n(choice.begin() + g * group_size, group_size, kMasked);
      }
    }
    TopK(choice, k, order);

    double sum = 0.0;
    for (const int32_t e : order) sum += scores[e];
    const double denominator = config.norm_topk_prob ? sum + 1e-20 : 1.0;
    for (int j = 0; j < k; ++j) {
      const int32_t e = order[j];
      expert_ids[t * k + j] = e;
      expert_weights[t * k + j] = static_cast<float>(static_cast<double>(scores[e]) / denominator *
                                                     config.routed_scaling_factor);
    }
  }
  return Status::Ok();
}

}  // namespace dsinfer
