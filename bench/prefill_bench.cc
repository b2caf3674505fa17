// Prefill matmul: kernels::MatMul with 512 tokens at once, i.e. the blocked gemm bodies
// (KernelTable::gemm) where a level has one, else the per-pair vec_dot loop of MatMul.
//
//   Prefill/<type>/<n_out>x<n_in>/<isa>[ (vec_dot loop)]/threads:N
//
// "(vec_dot loop)" marks MatMul without a gemm body: for types that have none at that level,
// and, at the best level, as the baseline of those that do (the same table with its gemm
// entries removed).
// Prefill is compute-bound (each weight byte serves 512 tokens), so the figure is GFLOP/s =
// 2 * n_out * n_in * tokens / wall time, counter `GFLOP_s`. Shapes are DeepSeek-V3 routed
// experts: 2048x7168 (ffn_gate/up: 7168 hidden -> 2048) and 7168x2048 (ffn_down). The weights
// are one random matrix per type and shape (random codes for IQ2_XXS and IQ1_*, which have no
// quantiser; L3-sized at most: 2048x7168 Q8_0 is 15.6 MB), the
// activations 512 random rows; the time includes MatMul's activation quantisation, as in the
// model. Levels: every level of this CPU above scalar (the scalar reference would take tens of
// seconds per iteration; the decode table in bench/README.md gives its ratios).
//
//   build/bench/prefill_bench [--benchmark_filter=q8_0]
//
// Memory: under 200 MiB (float staging of one matrix plus its quantised copies).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"
#include "quant/random_blocks.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/tensor_view.h"

namespace dsinfer {
namespace {

constexpr int64_t kTokens = 512;
constexpr int kMaxThreads = 2;

struct MatrixShape {
  int64_t n_out;
  int64_t n_in;
};
constexpr MatrixShape kShapes[] = {{2048, 7168}, {7168, 2048}};
constexpr DType kTypes[] = {DType::kQ8_0,  DType::kBF16,    DType::kF16,     DType::kQ4_0,
                            DType::kQ4_K,  DType::kQ6_K,    DType::kIQ2_XXS, DType::kIQ2_XS,
                            DType::kIQ2_S, DType::kIQ3_XXS, DType::kIQ3_S,   DType::kIQ1_S,
                            DType::kIQ1_M};

std::vector<float> RandomFloats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

// The quantised weight of each (type, shape), made on first use and kept.
const std::vector<std::byte>& Weight(DType dtype, MatrixShape shape) {
  static std::map<std::pair<int, int64_t>, std::vector<std::byte>> cache;
  const auto key = std::make_pair(static_cast<int>(dtype), shape.n_out * 100000 + shape.n_in);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::vector<float> x = RandomFloats(shape.n_out * shape.n_in, 1);
    std::vector<std::byte> q(static_cast<size_t>(shape.n_out * *RowBytes(dtype, shape.n_in)));
    // The types dsinfer only reads have no quantiser: random codes, which compute the same.
    const Status status = FindQuantOps(dtype)->quantize == nullptr
                              ? FillRandomBlocks(dtype, 1, 1.0F, q)
                              : QuantizeRows(dtype, x, shape.n_in, q);
    if (!status.ok()) std::abort();
    it = cache.emplace(key, std::move(q)).first;
  }
  return it->second;
}

// `without_gemm`: the level's table with its gemm entries removed, so MatMul takes its
// per-pair vec_dot loop: the baseline the gemm bodies are measured against.
void Prefill(benchmark::State& state, DType dtype, MatrixShape shape, Isa isa, bool without_gemm) {
  const auto threads = static_cast<int>(state.range(0));
  kernels::KernelTable table = kernels::KernelsFor(isa);  // a copy: pointers only
  if (without_gemm) table.gemm = {};
  const std::vector<std::byte>& w = Weight(dtype, shape);
  const TensorView weight{.dtype = dtype, .shape = Shape{shape.n_out, shape.n_in}, .bytes = w};
  const std::vector<float> x = RandomFloats(kTokens * shape.n_in, 2);
  std::vector<float> y(static_cast<size_t>(kTokens * shape.n_out));
  ThreadPool pool(threads);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    if (!kernels::MatMul(weight, x, kTokens, y, &pool, table).ok()) {
      state.SkipWithError("MatMul failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(shape.n_out * shape.n_in * kTokens);
  state.counters["GFLOP_s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void RegisterBenchmarks() {
  const Isa best = BestIsa(GetCpuFeatures());
  for (const MatrixShape& shape : kShapes) {
    for (const DType dtype : kTypes) {
      for (int level = static_cast<int>(Isa::kAvx2); level <= static_cast<int>(best); ++level) {
        const auto isa = static_cast<Isa>(level);
        const bool has_gemm = kernels::KernelsFor(isa).Gemm(dtype) != nullptr;
        // The vec_dot-loop baseline of a type with a gemm body: at the best level only.
        for (const bool without_gemm : {false, true}) {
          if (without_gemm && (!has_gemm || isa != best)) continue;
          const std::string name =
              fmt::format("Prefill/{}/{}x{}/{}{}", DTypeName(dtype), shape.n_out, shape.n_in,
                          IsaName(isa), has_gemm && !without_gemm ? "" : " (vec_dot loop)");
          benchmark::RegisterBenchmark(name.c_str(), Prefill, dtype, shape, isa, without_gemm)
              ->ArgName("threads")
              ->DenseRange(1, kMaxThreads)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
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
  benchmark::AddCustomContext("tokens", std::to_string(dsinfer::kTokens));
  dsinfer::RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
