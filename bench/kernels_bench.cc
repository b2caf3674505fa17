// Decode matvec (one token) against the machine's measured read bandwidth (issue 3).
//
// Decode is memory-bound: every weight byte is read once per token, so the figure that matters
// is weight GB/s as a fraction of what the memory system delivers. Both are measured here in
// the same run, over the same 4 GiB buffer:
//
//   StreamRead/threads:N   a STREAM-like sum over the whole buffer (N = 1, 2 pool threads);
//                          the best of a few passes, taken once at start-up, is the bandwidth
//                          every matvec is divided by (counter `of_stream`, same thread count)
//   MatVec/<type>/<n_out>x<n_in>/<isa>[/packed]/threads:N
//                          kernels::MatMul with n_tokens = 1 on one weight of that shape
//                          (/packed: MatMulPacked on its x8 row-interleaved copy;
//                          /packed/tokens:8: 8 tokens at once, as a batched decode step,
//                          counter tokens_s: tokens per second, to set against tokens:1;
//                          /tokens:3 on types with no packed layout, such as the lattice
//                          types: 3 tokens at once, as a MoE expert in a batched decode);
//                          the buffer holds as many copies of the weight as fit and each
//                          iteration reads the next copy, so no weight is cache-resident
//                          (the L3 here may be ~480 MiB, whatever the CPU reports)
//
// The weights are one random matrix quantised with QuantizeRows (random codes for IQ2_XXS and
// IQ1_*, which have no quantiser) and copied over the buffer
// (quantising 4 GiB on the scalar path would take minutes). <isa> is the selected table
// (Kernels(), DSINFER_ISA applies); for the types that have a SIMD body it is followed by the
// scalar table for comparison. Where the selected table's entry is the scalar reference (no
// SIMD body yet) the label says "scalar body".
//
//   build/bench/kernels_bench [--benchmark_filter=Q4_0]
//
// Memory: the 4 GiB buffer plus one matrix in floats and quantised (< 5 GiB in all).
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/packed_matrix.h"
#include "platform/cpu_features.h"
#include "platform/memory_bandwidth.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"
#include "quant/random_blocks.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/tensor_view.h"

namespace dsinfer {
namespace {

constexpr size_t kWorkingSetBytes = size_t{4} << 30;
constexpr int kMaxThreads = 2;

// The buffer every benchmark reads: mapped once, backed by huge pages where the kernel allows
// (so the figures measure memory, not TLB misses), and written through before any timing.
std::span<std::byte> WorkingSet() {
  static const std::span<std::byte> kBuffer = [] {
    void* p = ::mmap(nullptr, kWorkingSetBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) {
      std::perror("kernels_bench: mmap of the working set");
      std::abort();
    }
    ::madvise(p, kWorkingSetBytes, MADV_HUGEPAGE);
    std::memset(p, 0x5a, kWorkingSetBytes);  // fault every page in now, not while timing
    return std::span<std::byte>(static_cast<std::byte*>(p), kWorkingSetBytes);
  }();
  return kBuffer;
}

// ---- STREAM-like read bandwidth ----------------------------------------------------------

// One pass over the whole working set split over `pool` (platform/memory_bandwidth.h).
uint64_t ReadPass(ThreadPool& pool) { return ReadEveryWord(WorkingSet(), &pool); }

// Best bytes/s of a few passes with `threads` threads, indexed by thread count; set in main()
// before any benchmark runs.
std::array<double, kMaxThreads + 1> g_stream_bytes_per_s{};

// The best of 6 passes after an untimed one (MeasureReadBandwidth), over the same buffer the
// matvecs read.
double MeasureStream(int threads) {
  ThreadPool pool(threads);
  return MeasureReadBandwidth(WorkingSet(), &pool, {.passes = 6});
}

void BM_StreamRead(benchmark::State& state, int threads) {
  ThreadPool pool(threads);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    benchmark::DoNotOptimize(ReadPass(pool));
  }
  const double bytes = static_cast<double>(state.iterations()) * kWorkingSetBytes;
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["GB_s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}

// ---- Decode matvec -------------------------------------------------------------------------

// A weight as stored: n_out rows of n_in (n_in is the dot-product length, ggml's ne0).
struct WeightShape {
  int64_t n_out, n_in;
  const char* what;
};

constexpr WeightShape kShapes[] = {
    {2048, 10944, "V2-Lite dense ffn_down"},    // 10944 = 42.75 x 256: no K-quants
    {7168, 2048, "V3 routed expert ffn_down"},  //
    {4096, 11008, "DeepSeek-LLM-7B ffn_down"},  // 11008 = 43 x 256
};
constexpr DType kTypes[] = {DType::kQ8_0,    DType::kQ4_0,    DType::kQ4_1,   DType::kQ5_0,
                            DType::kQ5_1,    DType::kIQ4_NL,  DType::kQ2_K,   DType::kQ3_K,
                            DType::kQ4_K,    DType::kQ5_K,    DType::kQ6_K,   DType::kF16,
                            DType::kBF16,    DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S,
                            DType::kIQ3_XXS, DType::kIQ3_S,   DType::kIQ1_S,  DType::kIQ1_M};

// The working set filled with copies of one quantised random matrix, each at a 4 KiB aligned
// stride. Refilled only when the (type, shape) changes, so the thread counts and ISAs of one
// case share a fill; `cursor` carries over between them so that a run starts on the copies
// least recently read.
struct Fill {
  DType dtype = DType::kF32;
  bool packed = false;
  int64_t n_out = 0, n_in = 0;
  size_t matrix_bytes = 0, stride = 0, copies = 0, cursor = 0;
};

Fill& FillWorkingSet(DType dtype, const WeightShape& shape, bool packed) {
  static Fill fill;
  if (fill.dtype == dtype && fill.packed == packed && fill.n_out == shape.n_out &&
      fill.n_in == shape.n_in) {
    return fill;
  }
  const int64_t n = shape.n_out * shape.n_in;
  std::vector<float> values(static_cast<size_t>(n));
  uint64_t s = 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(n);
  for (float& v : values) {  // xorshift64: uniform in [-1, 1), fast enough for 45M values
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v = static_cast<float>(static_cast<double>(s >> 11) * 0x1.0p-52 - 1.0);
  }
  const int64_t row_bytes = *RowBytes(dtype, shape.n_in);
  std::vector<std::byte> matrix(static_cast<size_t>(row_bytes * shape.n_out));
  // The types dsinfer only reads have no quantiser: random codes, which read the same.
  Status status = FindQuantOps(dtype)->quantize == nullptr
                      ? FillRandomBlocks(dtype, static_cast<uint64_t>(n), 0.5F, matrix)
                      : QuantizeRows(dtype, values, shape.n_in, matrix);
  if (status.ok() && packed) {
    std::vector<std::byte> rows = std::move(matrix);
    matrix.assign(static_cast<size_t>(*kernels::PackedMatrixBytes(dtype, shape.n_out, shape.n_in)),
                  std::byte{0});
    status = kernels::PackInto(
        TensorView{.dtype = dtype, .shape = Shape{shape.n_out, shape.n_in}, .bytes = rows}, matrix);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "kernels_bench: %s\n", status.ToString().c_str());
    std::abort();
  }
  const std::span<std::byte> ws = WorkingSet();
  fill = Fill{.dtype = dtype,
              .packed = packed,
              .n_out = shape.n_out,
              .n_in = shape.n_in,
              .matrix_bytes = matrix.size(),
              .stride = (matrix.size() + 4095) / 4096 * 4096};
  fill.copies = ws.size() / fill.stride;
  if (fill.copies == 0) {
    std::fprintf(stderr, "kernels_bench: a %zu-byte matrix does not fit the working set\n",
                 matrix.size());
    std::abort();
  }
  for (size_t i = 0; i < fill.copies; ++i) {
    std::memcpy(ws.data() + i * fill.stride, matrix.data(), matrix.size());
  }
  return fill;
}

struct MatVecCase {
  DType dtype;
  WeightShape shape;
  const kernels::KernelTable* table;
  int threads;
  bool packed;
  int64_t n_tokens = 1;
};

void BM_MatVec(benchmark::State& state, MatVecCase c) {
  Fill& fill = FillWorkingSet(c.dtype, c.shape, c.packed);
  const std::byte* base = WorkingSet().data();
  ThreadPool pool(c.threads);
  std::vector<float> x(static_cast<size_t>(c.shape.n_in * c.n_tokens));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17) * 0.125f - 1.0f;
  std::vector<float> y(static_cast<size_t>(c.shape.n_out * c.n_tokens));

  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    const kernels::PackedMatrixView weight{
        .dtype = c.dtype,
        .packed = c.packed,
        .n_out = c.shape.n_out,
        .n_in = c.shape.n_in,
        .bytes = {base + fill.cursor * fill.stride, fill.matrix_bytes}};
    const Status status = kernels::MatMulPacked(weight, x, c.n_tokens, y, &pool, *c.table);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    if (++fill.cursor >= fill.copies) fill.cursor = 0;  // copies >= 1 (FillWorkingSet)
  }
  const double bytes =
      static_cast<double>(state.iterations()) * static_cast<double>(fill.matrix_bytes);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["GB_s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  // bytes / stream_rate, divided by the time: the fraction of the measured bandwidth.
  state.counters["of_stream"] =
      benchmark::Counter(bytes / g_stream_bytes_per_s[c.threads], benchmark::Counter::kIsRate);
  state.counters["copies"] = static_cast<double>(fill.copies);
  state.counters["tokens_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * c.n_tokens), benchmark::Counter::kIsRate);
  const bool scalar_body =
      c.table->isa != Isa::kScalar &&
      c.table->VecDot(c.dtype) == kernels::KernelsFor(Isa::kScalar).VecDot(c.dtype);
  state.SetLabel(fmt::format("{}{}", c.shape.what, scalar_body ? ", scalar body" : ""));
}

void RegisterBenchmarks() {
  for (int threads = 1; threads <= kMaxThreads; ++threads) {
    benchmark::RegisterBenchmark(fmt::format("StreamRead/threads:{}", threads).c_str(),
                                 BM_StreamRead, threads)
        ->UseRealTime()
        ->MinTime(1.0)
        ->Unit(benchmark::kMillisecond);
  }
  const kernels::KernelTable& selected = kernels::Kernels();
  const kernels::KernelTable& scalar = kernels::KernelsFor(Isa::kScalar);
  for (const WeightShape& shape : kShapes) {
    for (const DType dtype : kTypes) {
      const DTypeInfo& info = GetDTypeInfo(dtype);
      if (shape.n_in % info.block_size != 0) continue;  // K-quants need n_in % 256 == 0
      std::vector<const kernels::KernelTable*> tables = {&selected};
      if (selected.isa != Isa::kScalar && selected.VecDot(dtype) != scalar.VecDot(dtype)) {
        tables.push_back(&scalar);
      }
      for (const kernels::KernelTable* table : tables) {
        for (const bool packed : {true, false}) {
          if (packed && table->PackedMatvec(dtype) == nullptr) continue;
          for (int threads = 1; threads <= kMaxThreads; ++threads) {
            const std::string name =
                fmt::format("MatVec/{}/{}x{}/{}{}/threads:{}", DTypeName(dtype), shape.n_out,
                            shape.n_in, IsaName(table->isa), packed ? "/packed" : "", threads);
            benchmark::RegisterBenchmark(name.c_str(), BM_MatVec,
                                         MatVecCase{dtype, shape, table, threads, packed})
                ->UseRealTime()
                ->MinTime(0.5)
                ->Unit(benchmark::kMicrosecond);
            const bool rows_only = !packed && table->PackedMatvec(dtype) == nullptr;
            if (table == &selected && (packed || rows_only)) {
              const int tokens = packed ? 8 : 3;
              benchmark::RegisterBenchmark(
                  fmt::format("MatVec/{}/{}x{}/{}{}/tokens:{}/threads:{}", DTypeName(dtype),
                              shape.n_out, shape.n_in, IsaName(table->isa), packed ? "/packed" : "",
                              tokens, threads)
                      .c_str(),
                  BM_MatVec, MatVecCase{dtype, shape, table, threads, packed, tokens})
                  ->UseRealTime()
                  ->MinTime(0.5)
                  ->Unit(benchmark::kMicrosecond);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace dsinfer

int main(int argc, char** argv) {
  using namespace dsinfer;  // NOLINT(google-build-using-namespace): main only
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (int threads = 1; threads <= kMaxThreads; ++threads) {
    g_stream_bytes_per_s[threads] = MeasureStream(threads);
    benchmark::AddCustomContext(fmt::format("stream_read_GB_s_threads_{}", threads),
                                fmt::format("{:.2f}", g_stream_bytes_per_s[threads] / 1e9));
  }
  benchmark::AddCustomContext("kernel_isa", std::string(IsaName(kernels::Kernels().isa)));
  benchmark::AddCustomContext("working_set_GiB", std::to_string(kWorkingSetBytes >> 30));
  RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
