// Row-wise ops of one decode step, per kernel level of this CPU and against the reference:
//
//   RmsNorm/7168           one hidden-state row of V3 (hidden_size)
//   Softmax/4096, /129280  an attention row of 4096 keys; one row of V3's vocabulary logits
//   SiluMul/18432          one row of V3's dense MLP (intermediate_size)
//   Rope<pairing>/128x64   one token's q rope part: 128 heads x 64 dims (cos/sin table included)
//
// Each name ends in the level (scalar, avx2, avx512) or "reference" (the oracle in
// reference/). Inputs stay in L1/L2, so these are compute figures, not bandwidth ones.
//
//   build/bench/elementwise_bench [--benchmark_filter=Softmax]
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/rope.h"
#include "kernels/rope.h"
#include "platform/cpu_features.h"

namespace dsinfer {
namespace {

std::vector<float> RandomFloats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// level < 0: the reference.
void BM_RmsNorm(benchmark::State& state, int level) {
  const auto dim = static_cast<size_t>(state.range(0));
  const std::vector<float> x = RandomFloats(dim, 1, 2.0f);
  const std::vector<float> weight = RandomFloats(dim, 2, 1.0f);
  std::vector<float> out(dim);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s = level < 0 ? RmsNorm(x, weight, 1e-6f, out)
                               : kernels::RmsNorm(x, weight, 1e-6f, out, nullptr,
                                                  kernels::ElementwiseFor(static_cast<Isa>(level)));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Softmax(benchmark::State& state, int level) {
  const int64_t cols = state.range(0);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(cols), 3, 5.0f);
  std::vector<float> out(x.size());
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s = level < 0 ? Softmax(x, cols, out)
                               : kernels::Softmax(x, cols, out, nullptr,
                                                  kernels::ElementwiseFor(static_cast<Isa>(level)));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_SiluMul(benchmark::State& state, int level) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<float> gate = RandomFloats(n, 4, 3.0f);
  const std::vector<float> up = RandomFloats(n, 5, 1.0f);
  std::vector<float> out(n);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s = level < 0 ? SiluMul(gate, up, out)
                               : kernels::SiluMul(gate, up, out, nullptr,
                                                  kernels::ElementwiseFor(static_cast<Isa>(level)));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Rope(benchmark::State& state, int level, RopePairing pairing) {
  const int64_t n_heads = state.range(0);
  const auto dims = static_cast<int>(state.range(1));
  const std::vector<float> inv_freq = *RopeInverseFrequencies(RopeConfig{.dims = dims});
  std::vector<float> x = RandomFloats(static_cast<size_t>(n_heads * dims), 6, 1.0f);
  const std::vector<int64_t> positions = {4321};
  const RopeBatchLayout layout{.n_heads = n_heads, .head_dim = dims, .rope_offset = 0};
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    if (level < 0) {
      ApplyRopeBatch(pairing, inv_freq, positions, layout, x);
    } else {
      kernels::ApplyRopeBatch(pairing, inv_freq, positions, layout, x, 1.0, nullptr,
                              kernels::RopeKernelsFor(static_cast<Isa>(level)));
    }
    benchmark::DoNotOptimize(x.data());
  }
}

void RegisterBenchmarks() {
  std::vector<std::pair<int, std::string>> levels = {{-1, "reference"}};
  const int best = static_cast<int>(BestIsa(GetCpuFeatures()));
  for (int level = 0; level <= best && level <= static_cast<int>(Isa::kAvx512); ++level) {
    levels.emplace_back(level, std::string(IsaName(static_cast<Isa>(level))));
  }
  for (const auto& [level, name] : levels) {
    benchmark::RegisterBenchmark(("RmsNorm/" + name).c_str(), BM_RmsNorm, level)->Arg(7168);
    benchmark::RegisterBenchmark(("Softmax/" + name).c_str(), BM_Softmax, level)
        ->Arg(4096)
        ->Arg(129280);
    benchmark::RegisterBenchmark(("SiluMul/" + name).c_str(), BM_SiluMul, level)->Arg(18432);
    benchmark::RegisterBenchmark(("RopeInterleaved/" + name).c_str(), BM_Rope, level,
                                 RopePairing::kInterleaved)
        ->Args({128, 64});
    benchmark::RegisterBenchmark(("RopeHalfSplit/" + name).c_str(), BM_Rope, level,
                                 RopePairing::kHalfSplit)
        ->Args({128, 64});
  }
}

}  // namespace
}  // namespace dsinfer

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  dsinfer::RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
