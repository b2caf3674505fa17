// One token's sampling from one row of DeepSeek-V3's 129,280 logits (sampling::Sampler), per
// configuration; the time per iteration is the time per token for one sequence.
//
//   Greedy                    argmax
//   GreedyPenalties           + repetition, presence and frequency over a 2k-token history
//   TopK40TopP95              temperature 0.8, top-k 40, top-p 0.95
//   TopK40TopP95Penalties     the same + the three penalties over 2k tokens (1k prompt, 1k
//                             generated)
//   Temperature               temperature 0.8 over the whole vocabulary
//   TopP95                    temperature 0.8, top-p 0.95 without top-k (incremental ranking)
//   MinP05                    temperature 0.8, min-p 0.05 without top-k
//   TopK40TopP95Logprobs5     + logprobs with 5 top_logprobs (raw log_softmax of the row)
//
// Logits are N(0, 2.5) with a few hundred tokens lifted by +8, roughly the shape of a trained
// model's row (a handful of plausible tokens over a long tail). Kernels() picks the ISA
// (DSINFER_ISA applies).
//
//   build/bench/sampling_bench [--benchmark_filter=TopK]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "sampling/sampler.h"

namespace dsinfer::sampling {
namespace {

constexpr int32_t kVocab = 129280;
constexpr size_t kHistory = 2048;

std::vector<float> ModelLikeLogits() {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(kVocab);
  for (float& l : logits) l = normal(rng);
  std::uniform_int_distribution<int32_t> id(0, kVocab - 1);
  for (int i = 0; i < 300; ++i) logits[id(rng)] += 8.0f;
  return logits;
}

std::vector<int32_t> RandomHistory() {
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> id(0, kVocab - 1);
  std::vector<int32_t> history(kHistory);
  for (int32_t& t : history) t = id(rng);
  return history;
}

void BM_Sample(benchmark::State& state, SamplingParams params, bool penalties) {
  const std::vector<float> logits = ModelLikeLogits();
  const std::vector<int32_t> history = RandomHistory();
  const std::span<const int32_t> all(history);
  const TokenHistory seen{all.first(kHistory / 2), all.subspan(kHistory / 2)};
  if (penalties) {
    params.repetition_penalty = 1.1f;
    params.presence_penalty = 0.5f;
    params.frequency_penalty = 0.3f;
  }
  Sampler sampler(kVocab);
  RequestRng rng(params.seed);
  SampledToken out;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s = sampler.Sample(logits, seen, params, &rng, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.token);
  }
}

// BENCHMARK_CAPTURE passes its trailing arguments through __VA_ARGS__, so the designated
// initialisers' commas are fine.
BENCHMARK_CAPTURE(BM_Sample, Greedy, SamplingParams{.temperature = 0.0f}, false);
BENCHMARK_CAPTURE(BM_Sample, GreedyPenalties, SamplingParams{.temperature = 0.0f}, true);
BENCHMARK_CAPTURE(BM_Sample, TopK40TopP95,
                  SamplingParams{.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 7},
                  false);
BENCHMARK_CAPTURE(BM_Sample, TopK40TopP95Penalties,
                  SamplingParams{.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 7},
                  true);
BENCHMARK_CAPTURE(BM_Sample, Temperature, SamplingParams{.temperature = 0.8f, .seed = 7}, false);
BENCHMARK_CAPTURE(BM_Sample, TopP95, SamplingParams{.temperature = 0.8f, .top_p = 0.95f, .seed = 7},
                  false);
BENCHMARK_CAPTURE(BM_Sample, MinP05, SamplingParams{.temperature = 0.8f, .min_p = 0.05f, .seed = 7},
                  false);
BENCHMARK_CAPTURE(BM_Sample, TopK40TopP95Logprobs5,
                  SamplingParams{.temperature = 0.8f,
                                 .top_k = 40,
                                 .top_p = 0.95f,
                                 .seed = 7,
                                 .logprobs = true,
                                 .top_logprobs = 5},
                  false);

}  // namespace
}  // namespace dsinfer::sampling

BENCHMARK_MAIN();
