// MoE routing reference (deepseek-models.md §3.10, G5, G6): hand-computed cases for each
// variant, ties, the -inf group mask, bias-free weights, normalisation and scaling, config
// errors, and a V3-sized case against a naive sort-based router.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernels/reference/moe_routing.h"

namespace dsinfer {
namespace {

struct Routed {
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

Routed Route(const MoeRoutingConfig& config, const std::vector<float>& logits,
             const std::vector<float>& bias = {}) {
  const int64_t n_tokens = static_cast<int64_t>(logits.size()) / config.n_routed_experts;
  Routed r{std::vector<int32_t>(n_tokens * config.num_experts_per_tok, -1),
           std::vector<float>(n_tokens * config.num_experts_per_tok, NAN)};
  const Status s = RouteTokens(config, logits, bias, n_tokens, r.ids, r.weights);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

std::string RouteError(const MoeRoutingConfig& config, const std::vector<float>& logits,
                       const std::vector<float>& bias = {}) {
  const int k = std::max(config.num_experts_per_tok, 0);
  std::vector<int32_t> ids(k);
  std::vector<float> weights(k);
  const Status s = RouteTokens(config, logits, bias, 1, ids, weights);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return std::string(s.message());
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Hand-computed softmax of [1, 3, 2, 0]: e^l / 31.19287485.
constexpr double kS1 = 0.6439142599, kS2 = 0.2368828138;

MoeRoutingConfig V3Small(int k = 3, int topk_group = 2) {
  return {.n_routed_experts = 8,
          .num_experts_per_tok = k,
          .scoring_func = MoeScoringFunc::kSigmoid,
          .topk_method = MoeTopkMethod::kNoauxTc,
          .n_group = 4,
          .topk_group = topk_group,
          .norm_topk_prob = true,
          .routed_scaling_factor = 2.5};
}

TEST(MoeRouting, SoftmaxGreedyTakesTopScoresUnnormalised) {
  const MoeRoutingConfig moe16b{.n_routed_experts = 4, .num_experts_per_tok = 2};
  // Token 1: experts 0, 1, 2 tie; the lower index wins.
  const Routed r = Route(moe16b, {1, 3, 2, 0, /**/ 0, 0, 0, 5});
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2, 3, 0}));
  EXPECT_NEAR(r.weights[0], kS1, 1e-7);
  EXPECT_NEAR(r.weights[1], kS2, 1e-7);
  EXPECT_NEAR(r.weights[2], 148.4131591 / 151.4131591, 1e-7);
  EXPECT_NEAR(r.weights[3], 1.0 / 151.4131591, 1e-7);
}

TEST(MoeRouting, AllTiedPicksLowestIndices) {
  const MoeRoutingConfig c{.n_routed_experts = 6, .num_experts_per_tok = 3};
  const Routed r = Route(c, std::vector<float>(6, 0.25f));
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 1, 2}));
  for (const float w : r.weights) EXPECT_NEAR(w, 1.0 / 6, 1e-7);
}

TEST(MoeRouting, NormalisationThenScaling) {
  MoeRoutingConfig c{.n_routed_experts = 4, .num_experts_per_tok = 2, .norm_topk_prob = true};
  Routed r = Route(c, {1, 3, 2, 0});
  // e^3 / (e^3 + e^2) = sigmoid(1).
  EXPECT_NEAR(r.weights[0], 0.7310585786, 1e-7);
  EXPECT_NEAR(r.weights[1], 0.2689414214, 1e-7);
  c.routed_scaling_factor = 2.5;
  r = Route(c, {1, 3, 2, 0});
  EXPECT_NEAR(r.weights[0], 2.5 * 0.7310585786, 1e-6);
  EXPECT_NEAR(r.weights[1], 2.5 * 0.2689414214, 1e-6);
  c.norm_topk_prob = false;  // V2: no normalisation, x16
  c.routed_scaling_factor = 16.0;
  r = Route(c, {1, 3, 2, 0});
  EXPECT_NEAR(r.weights[0], 16 * kS1, 1e-5);
  EXPECT_NEAR(r.weights[1], 16 * kS2, 1e-5);
}

// V2 style: 4 groups of 2, keep 2 groups by their max score, k = 3, x16.
TEST(MoeRouting, GroupLimitedGreedyRanksGroupsByMax) {
  const std::vector<float> logits = {5, 0, 4, 3.9f, 4.5f, -1, 0, 0};
  MoeRoutingConfig v2{.n_routed_experts = 8,
                      .num_experts_per_tok = 3,
                      .topk_method = MoeTopkMethod::kGroupLimitedGreedy,
                      .n_group = 4,
                      .topk_group = 2,
                      .routed_scaling_factor = 16.0};
  // Group maxima 5, 4, 4.5, 0: groups 0 and 2 survive; expert 2 (4.0) is masked out.
  const Routed r = Route(v2, logits);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 4, 1}));
  double sum = 0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l));
  EXPECT_NEAR(r.weights[0], 16 * std::exp(5.0) / sum, 1e-5);
  EXPECT_NEAR(r.weights[1], 16 * std::exp(4.5) / sum, 1e-5);
  EXPECT_NEAR(r.weights[2], 16 * 1.0 / sum, 1e-5);
  // Without groups the same logits pick expert 2.
  v2.topk_method = MoeTopkMethod::kGreedy;
  EXPECT_EQ(Route(v2, logits).ids, (std::vector<int32_t>{0, 4, 2}));
}

// All sigmoid scores 0.5; the bias alone shapes c = [.9 .1 | .6 .6 | .55 .55 | .5 .5]. Group
// scores (top-2 sums) 1.0, 1.2, 1.1, 1.0 keep groups 1 and 2, although expert 0 has the best c
// (ranking groups by max would keep group 0). 4 vs 5 tie: 4 wins.
TEST(MoeRouting, NoauxTcRanksGroupsByTopTwoSum) {
  const Routed r =
      Route(V3Small(), std::vector<float>(8, 0.0f), {0.4f, -0.4f, 0.1f, 0.1f, 0.05f, 0.05f, 0, 0});
  EXPECT_EQ(r.ids, (std::vector<int32_t>{2, 3, 4}));
  for (const float w : r.weights) EXPECT_NEAR(w, 2.5 / 3, 1e-7);  // 0.5 / 1.5 * 2.5
}

// G6: weights come from the unbiased sigmoid.
TEST(MoeRouting, NoauxTcWeightsIgnoreTheBias) {
  const MoeRoutingConfig v3 = V3Small(2, 2);
  const std::vector<float> logits = {2, 1, 0, -1, 0.5f, 3, -2, 1.5f};
  // Group sums: 1.61, 0.77, 1.58, 0.94 -> groups 0 and 2; top-2 c: experts 5, 0.
  const Routed plain = Route(v3, logits, std::vector<float>(8, 0.0f));
  EXPECT_EQ(plain.ids, (std::vector<int32_t>{5, 0}));
  const double s5 = Sigmoid(3), s0 = Sigmoid(2);
  EXPECT_NEAR(plain.weights[0], 2.5 * s5 / (s5 + s0), 1e-6);
  EXPECT_NEAR(plain.weights[1], 2.5 * s0 / (s5 + s0), 1e-6);

  // A constant bias moves no choice and no weight.
  const Routed shifted = Route(v3, logits, std::vector<float>(8, 0.3f));
  EXPECT_EQ(shifted.ids, plain.ids);
  EXPECT_EQ(shifted.weights, plain.weights);

  // A bias that changes the choice to group 1: weights are sigmoid(0), sigmoid(-1) normalised.
  const Routed moved = Route(v3, logits, {0, 0, 1, 1, 0, 0, 0, 0});
  EXPECT_EQ(moved.ids, (std::vector<int32_t>{2, 3}));
  const double s2 = Sigmoid(0), s3 = Sigmoid(-1);
  EXPECT_NEAR(moved.weights[0], 2.5 * s2 / (s2 + s3), 1e-6);
  EXPECT_NEAR(moved.weights[1], 2.5 * s3 / (s2 + s3), 1e-6);
}

// G5: every biased score is negative. With -inf masking the experts come from the kept group
// (2); HF's 0.0 mask would have preferred the masked experts 0 and 1.
TEST(MoeRouting, NoauxTcMasksOtherGroupsWithMinusInfinity) {
  const Routed r = Route(V3Small(2, 1), std::vector<float>(8, 0.0f),
                         {-1, -1, -1.2f, -1.2f, -0.9f, -0.95f, -1.1f, -1.1f});
  EXPECT_EQ(r.ids, (std::vector<int32_t>{4, 5}));
  EXPECT_NEAR(r.weights[0], 1.25, 1e-7);
  EXPECT_NEAR(r.weights[1], 1.25, 1e-7);
}

// V3 shapes against a naive router: sort groups by top-2 sum, keep 4, sort their experts.
TEST(MoeRouting, V3ShapesMatchNaiveRouter) {
  const MoeRoutingConfig v3{.n_routed_experts = 256,
                            .num_experts_per_tok = 8,
                            .scoring_func = MoeScoringFunc::kSigmoid,
                            .topk_method = MoeTopkMethod::kNoauxTc,
                            .n_group = 8,
                            .topk_group = 4,
                            .norm_topk_prob = true,
                            .routed_scaling_factor = 2.5};
  const int64_t n_tokens = 7;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> logits(n_tokens * 256), bias(256);
  for (float& v : logits) v = dist(rng);
  for (float& v : bias) v = 0.1f * dist(rng);
  const Routed r = Route(v3, logits, bias);
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::vector<float> s(256), c(256);
    for (int e = 0; e < 256; ++e) {
      s[e] = static_cast<float>(Sigmoid(logits[t * 256 + e]));
      c[e] = s[e] + bias[e];
    }
    std::vector<std::pair<float, int>> groups;
    for (int64_t g = 0; g < 8; ++g) {
      std::vector<float> members(c.begin() + g * 32, c.begin() + (g + 1) * 32);
      std::sort(members.rbegin(), members.rend());
      groups.push_back({-(members[0] + members[1]), static_cast<int>(g)});
    }
    std::sort(groups.begin(), groups.end());
    std::vector<std::pair<float, int>> candidates;
    for (int j = 0; j < 4; ++j) {
      for (int e = groups[j].second * 32; e < (groups[j].second + 1) * 32; ++e) {
        candidates.push_back({-c[e], e});
      }
    }
    std::sort(candidates.begin(), candidates.end());
    double sum = 0;
    for (int j = 0; j < 8; ++j) sum += s[candidates[j].second];
    std::set<int> used_groups;
    double weight_total = 0;
    for (int j = 0; j < 8; ++j) {
      const int e = candidates[j].second;
      EXPECT_EQ(r.ids[t * 8 + j], e) << "token " << t << " slot " << j;
      EXPECT_NEAR(r.weights[t * 8 + j], 2.5 * s[e] / sum, 1e-6);
      used_groups.insert(e / 32);
      weight_total += r.weights[t * 8 + j];
    }
    EXPECT_LE(used_groups.size(), 4u);
    EXPECT_NEAR(weight_total, 2.5, 1e-5);
  }
}

TEST(MoeRouting, ZeroTokensIsFine) {
  const MoeRoutingConfig c{.n_routed_experts = 4, .num_experts_per_tok = 2};
  EXPECT_TRUE(RouteTokens(c, {}, {}, 0, {}, {}).ok());
}

TEST(MoeRouting, BadConfigsNameTheField) {
  const std::vector<float> logits8(8, 0.0f), bias8(8, 0.0f);
  MoeRoutingConfig c = V3Small();
  c.num_experts_per_tok = 9;
  EXPECT_NE(RouteError(c, logits8, bias8).find("num_experts_per_tok"), std::string::npos);
  c.num_experts_per_tok = 0;
  EXPECT_NE(RouteError(c, logits8, bias8).find("num_experts_per_tok"), std::string::npos);
  c = V3Small();
  c.n_group = 3;
  EXPECT_NE(RouteError(c, logits8, bias8).find("n_group (3) must divide"), std::string::npos);
  c = V3Small();
  c.topk_group = 5;
  EXPECT_NE(RouteError(c, logits8, bias8).find("topk_group (5)"), std::string::npos);
  c = V3Small(5, 2);  // 2 groups of 2 hold only 4 experts
  EXPECT_NE(RouteError(c, logits8, bias8).find("num_experts_per_tok (5) exceeds"),
            std::string::npos);
  c = V3Small(1, 1);
  c.n_group = 8;  // groups of 1 have no top 2
  EXPECT_NE(RouteError(c, logits8, bias8).find("n_group (8)"), std::string::npos);
  c = V3Small();
  c.routed_scaling_factor = 0;
  EXPECT_NE(RouteError(c, logits8, bias8).find("routed_scaling_factor"), std::string::npos);
  c = V3Small();
  EXPECT_NE(RouteError(c, logits8, {}).find("e_score_correction_bias"), std::string::npos);
  EXPECT_NE(RouteError(c, {0, 0, 0}, bias8).find("router_logits"), std::string::npos);
  std::vector<float> nan_logits = logits8;
  nan_logits[5] = NAN;
  EXPECT_NE(RouteError(c, nan_logits, bias8).find("expert 5"), std::string::npos);

  // Greedy ignores n_group / topk_group (MoE-16B has neither) but rejects a bias.
  const MoeRoutingConfig greedy{.n_routed_experts = 8, .num_experts_per_tok = 2, .n_group = 3};
  EXPECT_TRUE(ValidateMoeRoutingConfig(greedy).ok());
  EXPECT_NE(RouteError(greedy, logits8, bias8).find("e_score_correction_bias"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer
