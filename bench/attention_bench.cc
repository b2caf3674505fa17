// Decode attention over a paged cache of 4096 tokens, one query token, for the two shapes the
// engine runs most:
//
//   MlaDecode/<dtype>/<isa>/threads:N   V2-Lite absorbed MLA: 16 heads, kv_lora_rank 512,
//                                       qk_rope_head_dim 64 (one 576-value latent row a token)
//   GqaDecode/<dtype>/<isa>/threads:N   32 query heads over 8 KV heads, head_dim 128
//
// Block size 16, blocks in shuffled order. Counters: cache_GB/s (cache bytes the call reads
// divided by its time) and GFLOP/s (2 flops per multiply-add in scores and values). One
// layer's cache is 9.4 MiB (MLA F32) or 32 MiB (GQA F32), so it mostly sits in L2/L3 between
// iterations: these figures are the compute side, not memory bandwidth. <isa> runs every level
// the CPU has, scalar included, for the ratio.
//
//   build/bench/attention_bench [--benchmark_filter=Mla]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernels/attention.h"
#include "kernels/reference/attention.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "quant/half.h"

namespace dsinfer {
namespace {

constexpr int64_t kLength = 4096;
constexpr int64_t kBlockSize = 16;

std::vector<float> RandomFloats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<int32_t> ShuffledTable(uint32_t seed) {
  std::vector<int32_t> table(kLength / kBlockSize);
  std::iota(table.begin(), table.end(), 0);
  std::shuffle(table.begin(), table.end(), std::mt19937(seed));
  return table;
}

// `elems` random values stored as `dtype`, in float-aligned storage.
struct Pool {
  std::vector<float> storage;
  size_t bytes = 0;
  std::span<const std::byte> Bytes() const {
    return std::as_bytes(std::span(storage)).first(bytes);
  }
};

Pool RandomPool(DType dtype, int64_t elems, uint32_t seed) {
  Pool pool{.storage = RandomFloats(elems, seed), .bytes = static_cast<size_t>(elems) * 4};
  if (dtype == DType::kF16) {
    std::vector<uint16_t> halves(pool.storage.size());
    std::transform(pool.storage.begin(), pool.storage.end(), halves.begin(), Fp32ToFp16);
    pool.bytes = halves.size() * sizeof(uint16_t);
    std::memcpy(pool.storage.data(), halves.data(), pool.bytes);
  }
  return pool;
}

void SetCounters(benchmark::State& state, size_t cache_bytes, double flops) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["cache_GB/s"] = benchmark::Counter(static_cast<double>(cache_bytes) * iters / 1e9,
                                                    benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * iters / 1e9, benchmark::Counter::kIsRate);
}

void BM_MlaDecode(benchmark::State& state, DType dtype, Isa isa, int threads) {
  constexpr int64_t kHeads = 16, kRank = 512, kRope = 64;
  const Pool pool_bytes = RandomPool(dtype, kLength * (kRank + kRope), 1);
  const PagedLatentCache latent{.dtype = dtype,
                                .block_size = kBlockSize,
                                .kv_lora_rank = kRank,
                                .qk_rope_head_dim = kRope,
                                .pool = pool_bytes.Bytes()};
  const std::vector<int32_t> table = ShuffledTable(2);
  const std::vector<float> q_abs = RandomFloats(kHeads * kRank, 3);
  const std::vector<float> q_pe = RandomFloats(kHeads * kRope, 4);
  std::vector<float> out(kHeads * kRank);
  const AttentionParams params{
      .n_tokens = 1, .n_heads = kHeads, .n_past = kLength - 1, .scale = 0.1147214f};
  ThreadPool pool(threads);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s =
        kernels::MlaAttentionAbsorbed(q_abs, q_pe, latent, table, params, out, &pool, isa);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, pool_bytes.bytes, 2.0 * kHeads * kLength * (kRank + kRope + kRank));
}

void BM_GqaDecode(benchmark::State& state, DType dtype, Isa isa, int threads) {
  constexpr int64_t kHeads = 32, kKvHeads = 8, kDim = 128;
  const Pool k_pool = RandomPool(dtype, kLength * kKvHeads * kDim, 1);
  const Pool v_pool = RandomPool(dtype, kLength * kKvHeads * kDim, 2);
  const PagedKvCache kv{.dtype = dtype,
                        .block_size = kBlockSize,
                        .n_kv_heads = kKvHeads,
                        .head_dim_k = kDim,
                        .head_dim_v = kDim,
                        .k_pool = k_pool.Bytes(),
                        .v_pool = v_pool.Bytes()};
  const std::vector<int32_t> table = ShuffledTable(3);
  const std::vector<float> q = RandomFloats(kHeads * kDim, 4);
  std::vector<float> out(kHeads * kDim);
  const AttentionParams params{
      .n_tokens = 1, .n_heads = kHeads, .n_past = kLength - 1, .scale = 0.08838835f};
  ThreadPool pool(threads);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const Status s = kernels::AttentionPaged(q, kv, table, params, out, &pool, isa);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, k_pool.bytes + v_pool.bytes, 2.0 * kHeads * kLength * (kDim + kDim));
}

void RegisterBenchmarks() {
  const int best = static_cast<int>(BestIsa(GetCpuFeatures()));
  for (DType dtype : {DType::kF32, DType::kF16}) {
    for (int level = 0; level <= std::min(best, static_cast<int>(Isa::kAvx512)); ++level) {
      const auto isa = static_cast<Isa>(level);
      for (int threads : {1, 2}) {
        const std::string suffix =
            fmt::format("{}/{}/threads:{}", DTypeName(dtype), IsaName(isa), threads);
        benchmark::RegisterBenchmark(("MlaDecode/" + suffix).c_str(), BM_MlaDecode, dtype, isa,
                                     threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("GqaDecode/" + suffix).c_str(), BM_GqaDecode, dtype, isa,
                                     threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
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
