// Decode attention over a paged cache of 4096 tokens, one query token, for the shapes the
// engine runs most:
//
//   MlaDecode/<dtype>/<isa>/threads:N      V2-Lite absorbed MLA: 16 heads, kv_lora_rank 512,
//                                          qk_rope_head_dim 64 (one 576-value latent row a token)
//   GqaDecode/<dtype>/<isa>/threads:N      32 query heads over 8 KV heads, head_dim 128
//   MlaDecodeCold/f16/<isa>/threads:N      the MLA shape over V2-Lite's 27 layers' caches
//   GqaDecodeCold/f16/<isa>/threads:N      R1-Distill-Qwen-1.5B: 12 query heads over 2 KV heads
//                                          of 128, over its 28 layers' caches
//   MlaShare/<model>/pool:P/<split>/...    what one of P threads does in a Cold MLA decode,
//                                          with and without splitting the positions (split-K)
//
// Block size 16, blocks in shuffled order, pools 64-byte aligned as KvStorage's are. Counters:
// cache_GB/s (cache bytes the call reads divided by its time) and GFLOP/s (2 flops per
// multiply-add in scores and values). The plain cases keep one layer's cache (4.5-32 MiB), which
// mostly sits in L2/L3 between iterations: they measure compute. The Cold cases visit one layer
// a call in turn through 112-122 MiB, more than the L3, so each call reads its cache from DRAM,
// as a decode step does after its weights have flushed the L3. <isa> runs every level the CPU
// has, scalar included (not for Cold), for the ratio.
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

#include "base/aligned_buffer.h"
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

// `n_layers` layers' pools of `elems` values stored as `dtype`: random values, the same in
// every layer (only the addresses matter to the timing).
struct Pools {
  std::vector<AlignedBuffer> layers;
  size_t bytes = 0;  // per layer
  std::span<const std::byte> Layer(int64_t i) const {
    return {layers[static_cast<size_t>(i)].data(), bytes};
  }
};

Pools RandomPools(DType dtype, int64_t elems, int64_t n_layers, uint32_t seed) {
  const std::vector<float> values = RandomFloats(elems, seed);
  Pools pools;
  pools.bytes = static_cast<size_t>(elems) * (dtype == DType::kF16 ? 2 : 4);
  AlignedBuffer first(pools.bytes);
  if (dtype == DType::kF16) {
    auto* halves = reinterpret_cast<uint16_t*>(first.data());
    std::transform(values.begin(), values.end(), halves, Fp32ToFp16);
  } else {
    std::memcpy(first.data(), values.data(), pools.bytes);
  }
  pools.layers.push_back(std::move(first));
  for (int64_t l = 1; l < n_layers; ++l) {
    pools.layers.emplace_back(pools.bytes);
    std::memcpy(pools.layers.back().data(), pools.layers.front().data(), pools.bytes);
  }
  return pools;
}

void SetCounters(benchmark::State& state, size_t cache_bytes, double flops) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["cache_GB/s"] = benchmark::Counter(static_cast<double>(cache_bytes) * iters / 1e9,
                                                    benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * iters / 1e9, benchmark::Counter::kIsRate);
}

// V2-Lite's MLA decode; `heads` and `length` other than 16 and kLength time one thread's share
// of a call on a bigger pool (MlaShare below).
void BM_MlaDecode(benchmark::State& state, DType dtype, Isa isa, int threads, int64_t n_layers,
                  int64_t heads, int64_t length) {
  constexpr int64_t kRank = 512, kRope = 64;
  const Pools pools = RandomPools(dtype, kLength * (kRank + kRope), n_layers, 1);
  const std::vector<int32_t> table = ShuffledTable(2);
  const std::vector<float> q_abs = RandomFloats(heads * kRank, 3);
  const std::vector<float> q_pe = RandomFloats(heads * kRope, 4);
  std::vector<float> out(static_cast<size_t>(heads * kRank));
  const AttentionParams params{
      .n_tokens = 1, .n_heads = heads, .n_past = length - 1, .scale = 0.1147214f};
  ThreadPool pool(threads);
  int64_t layer = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const PagedLatentCache latent{.dtype = dtype,
                                  .block_size = kBlockSize,
                                  .kv_lora_rank = kRank,
                                  .qk_rope_head_dim = kRope,
                                  .pool = pools.Layer(layer)};
    layer = (layer + 1) % n_layers;
    const Status s =
        kernels::MlaAttentionAbsorbed(q_abs, q_pe, latent, table, params, out, &pool, isa);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, pools.bytes * static_cast<size_t>(length) / kLength,
              2.0 * static_cast<double>(heads * length) * (kRank + kRope + kRank));
}

struct GqaShape {
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t layers = 1;
};

void BM_GqaDecode(benchmark::State& state, DType dtype, Isa isa, int threads, GqaShape shape) {
  constexpr int64_t kDim = 128;
  const int64_t pool_elems = kLength * shape.kv_heads * kDim;
  const Pools k_pools = RandomPools(dtype, pool_elems, shape.layers, 1);
  const Pools v_pools = RandomPools(dtype, pool_elems, shape.layers, 2);
  const std::vector<int32_t> table = ShuffledTable(3);
  const std::vector<float> q = RandomFloats(shape.heads * kDim, 4);
  std::vector<float> out(static_cast<size_t>(shape.heads * kDim));
  const AttentionParams params{
      .n_tokens = 1, .n_heads = shape.heads, .n_past = kLength - 1, .scale = 0.08838835f};
  ThreadPool pool(threads);
  int64_t layer = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const PagedKvCache kv{.dtype = dtype,
                          .block_size = kBlockSize,
                          .n_kv_heads = shape.kv_heads,
                          .head_dim_k = kDim,
                          .head_dim_v = kDim,
                          .k_pool = k_pools.Layer(layer),
                          .v_pool = v_pools.Layer(layer)};
    layer = (layer + 1) % shape.layers;
    const Status s = kernels::AttentionPaged(q, kv, table, params, out, &pool, isa);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, k_pools.bytes + v_pools.bytes,
              2.0 * static_cast<double>(shape.heads * kLength * (kDim + kDim)));
}

void RegisterBenchmarks() {
  const int best = static_cast<int>(BestIsa(GetCpuFeatures()));
  for (DType dtype : {DType::kF32, DType::kF16}) {
    for (int level = 0; level <= std::min(best, static_cast<int>(Isa::kAvx512)); ++level) {
      const auto isa = static_cast<Isa>(level);
      for (int threads : {1, 2}) {
        const std::string suffix =
            fmt::format("{}/{}/threads:{}", DTypeName(dtype), IsaName(isa), threads);
        const auto add = [&](const std::string& name, auto&&... args) {
          benchmark::RegisterBenchmark(name.c_str(), args...)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        };
        add("MlaDecode/" + suffix, BM_MlaDecode, dtype, isa, threads, int64_t{1}, int64_t{16},
            kLength);
        add("GqaDecode/" + suffix, BM_GqaDecode, dtype, isa, threads,
            GqaShape{.heads = 32, .kv_heads = 8});
        if (dtype == DType::kF16 && isa != Isa::kScalar) {
          add("MlaDecodeCold/" + suffix, BM_MlaDecode, dtype, isa, threads, int64_t{27},
              int64_t{16}, kLength);
          add("GqaDecodeCold/" + suffix, BM_GqaDecode, dtype, isa, threads,
              GqaShape{.heads = 12, .kv_heads = 2, .layers = 28});
        }
        if (dtype == DType::kF16 && isa == Isa::kAvx512 && threads == 1) {
          // One thread's share of a decode over 4096 positions on a pool of `pool` threads,
          // as its own call: V2-Lite's 16 heads on 16 threads, without a split (a row each
          // over every position) and with one (16 rows over 256 positions); R1's 128 heads on
          // 64 threads, tiles of 2 rows against 16 rows over 512 positions. Same flops.
          struct Share {
            const char* name;
            int64_t heads;
            int64_t length;
          };
          for (const Share& share : {Share{"v2-lite/pool:16/unsplit", 1, kLength},
                                     Share{"v2-lite/pool:16/split", 16, kLength / 16},
                                     Share{"r1/pool:64/unsplit", 2, kLength},
                                     Share{"r1/pool:64/split", 16, kLength / 8}}) {
            add(fmt::format("MlaShare/{}/{}", share.name, suffix), BM_MlaDecode, dtype, isa,
                threads, int64_t{27}, share.heads, share.length);
          }
        }
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
