#include "kernels/kernel_table.h"

#include <cstring>
#include <string>
#include <utility>

#include "base/check.h"
#include "base/logging.h"
#include "kernels/isa_levels.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "tensor/dtype.h"

#if DSINFER_KERNELS_X86
#include "kernels/x86/amx/gemm.h"
#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/avx2/kernels.h"
#include "kernels/x86/avx2/packed_x8.h"
#include "kernels/x86/avx512/gemm.h"
#include "kernels/x86/avx512/kernels.h"
#include "kernels/x86/avx512/packed_x8.h"
#include "kernels/x86/avx512_vbmi/kernels.h"
#endif

namespace dsinfer::kernels {
namespace {

void SetVecDot(KernelTable& t, DType dtype, VecDotFn fn) {
  t.vec_dot[static_cast<int>(dtype)] = fn;
}

void SetQuantizeRow(KernelTable& t, DType dtype, QuantizeRowFn fn) {
  t.quantize_row[static_cast<int>(dtype)] = fn;
}

void SetGemm(KernelTable& t, DType dtype, RowsDotFn fn) { t.gemm[static_cast<int>(dtype)] = fn; }

void SetMatvec(KernelTable& t, DType dtype, RowsDotFn fn) {
  t.matvec[static_cast<int>(dtype)] = fn;
}

void SetPacked(KernelTable& t, DType dtype, PackedMatvecFn matvec, PackedGemmFn gemm) {
  t.packed_matvec[static_cast<int>(dtype)] = matvec;
  t.packed_gemm[static_cast<int>(dtype)] = gemm;
}

// The scalar KernelTable::q8_0_block_terms.
void Q8_0BlockTermsScalar(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    BlockQ8_0 block;
    std::memcpy(&block, q8_0 + b * static_cast<int64_t>(sizeof(BlockQ8_0)), sizeof(block));
    int32_t sum = 0;
    for (const int8_t q : block.qs) sum += q;
    out[b] = {.d = Fp16ToFp32(block.d), .sum = sum};
  }
}

KernelTable ScalarTable() {
  KernelTable t;
  t.isa = Isa::kScalar;
  t.q8_0_block_terms = Q8_0BlockTermsScalar;
  for (const DTypeInfo& info : AllDTypes()) {
    const QuantOps* ops = FindQuantOps(info.dtype);
    if (ops == nullptr) continue;
    SetVecDot(t, info.dtype, ops->vec_dot);
    SetQuantizeRow(t, info.dtype, ops->quantize);
  }
  return t;
}

// Each level: the level below with the entries this level has bodies for replaced. Only
// pointers are copied here; no SIMD code runs.
KernelTable Avx2Table(const KernelTable& below) {
  KernelTable t = below;
  t.isa = Isa::kAvx2;
#if DSINFER_KERNELS_X86
  SetQuantizeRow(t, DType::kQ8_0, avx2::QuantizeQ8_0);
  t.q8_0_block_terms = avx2::Q8_0BlockTermsOf;
  SetQuantizeRow(t, DType::kQ8_1, avx2::QuantizeQ8_1);
  SetQuantizeRow(t, DType::kF16, avx2::QuantizeF16);
  SetQuantizeRow(t, DType::kBF16, avx2::QuantizeBF16);
  SetGemm(t, DType::kQ8_0, avx2::GemmQ8_0);
  SetGemm(t, DType::kQ4_0, avx2::GemmQ4_0);
  SetGemm(t, DType::kBF16, avx2::GemmBF16);
  SetGemm(t, DType::kF16, avx2::GemmF16);
  SetGemm(t, DType::kQ4_K, avx2::GemmQ4_K);
  SetGemm(t, DType::kQ6_K, avx2::GemmQ6_K);
  SetVecDot(t, DType::kQ8_0, avx2::DotQ8_0);
  SetVecDot(t, DType::kQ4_0, avx2::DotQ4_0);
  SetQuantizeRow(t, DType::kQ8_K, avx2::QuantizeQ8_K);
  SetVecDot(t, DType::kQ4_K, avx2::DotQ4_K);
  SetVecDot(t, DType::kQ6_K, avx2::DotQ6_K);
  SetVecDot(t, DType::kQ4_1, avx2::DotQ4_1);
  SetVecDot(t, DType::kQ5_0, avx2::DotQ5_0);
  SetVecDot(t, DType::kQ5_1, avx2::DotQ5_1);
  SetVecDot(t, DType::kIQ4_NL, avx2::DotIQ4_NL);
  SetVecDot(t, DType::kQ2_K, avx2::DotQ2_K);
  SetVecDot(t, DType::kQ3_K, avx2::DotQ3_K);
  SetVecDot(t, DType::kQ5_K, avx2::DotQ5_K);
  SetVecDot(t, DType::kIQ2_XXS, avx2::DotIQ2_XXS);
  SetVecDot(t, DType::kIQ1_S, avx2::DotIQ1_S);
  SetVecDot(t, DType::kIQ1_M, avx2::DotIQ1_M);
  SetVecDot(t, DType::kIQ2_XS, avx2::DotIQ2_XS);
  SetVecDot(t, DType::kIQ2_S, avx2::DotIQ2_S);
  SetVecDot(t, DType::kIQ3_XXS, avx2::DotIQ3_XXS);
  SetVecDot(t, DType::kIQ3_S, avx2::DotIQ3_S);
  SetGemm(t, DType::kIQ2_XXS, avx2::GemmIQ2_XXS);
  SetGemm(t, DType::kIQ1_S, avx2::GemmIQ1_S);
  SetGemm(t, DType::kIQ1_M, avx2::GemmIQ1_M);
  SetGemm(t, DType::kIQ2_XS, avx2::GemmIQ2_XS);
  SetGemm(t, DType::kIQ2_S, avx2::GemmIQ2_S);
  SetGemm(t, DType::kIQ3_XXS, avx2::GemmIQ3_XXS);
  SetGemm(t, DType::kIQ3_S, avx2::GemmIQ3_S);
  SetVecDot(t, DType::kF32, avx2::DotF32);
  SetVecDot(t, DType::kF16, avx2::DotF16);
  SetVecDot(t, DType::kBF16, avx2::DotBF16);
  for (const DTypeInfo& info : AllDTypes()) {
    const PackedBodies bodies = avx2::PackedBodiesFor(info.dtype);
    if (bodies.matvec != nullptr) SetPacked(t, info.dtype, bodies.matvec, bodies.gemm);
  }
#endif
  return t;
}

KernelTable Avx512Table(const KernelTable& below) {
  KernelTable t = below;
  t.isa = Isa::kAvx512;
#if DSINFER_KERNELS_X86
  SetQuantizeRow(t, DType::kQ8_0, avx512::QuantizeQ8_0);
  t.q8_0_block_terms = avx512::Q8_0BlockTermsOf;
  SetQuantizeRow(t, DType::kQ8_1, avx512::QuantizeQ8_1);
  SetQuantizeRow(t, DType::kF16, avx512::QuantizeF16);
  SetQuantizeRow(t, DType::kBF16, avx512::QuantizeBF16);
  SetGemm(t, DType::kQ8_0, avx512::GemmQ8_0);
  SetGemm(t, DType::kQ4_0, avx512::GemmQ4_0);
  SetGemm(t, DType::kBF16, avx512::GemmBF16);
  SetGemm(t, DType::kF16, avx512::GemmF16);
  SetGemm(t, DType::kQ4_K, avx512::GemmQ4_K);
  SetGemm(t, DType::kQ6_K, avx512::GemmQ6_K);
  SetGemm(t, DType::kIQ2_XXS, avx512::GemmIQ2_XXS);
  SetGemm(t, DType::kIQ1_S, avx512::GemmIQ1_S);
  SetGemm(t, DType::kIQ1_M, avx512::GemmIQ1_M);
  SetGemm(t, DType::kIQ2_XS, avx512::GemmIQ2_XS);
  SetGemm(t, DType::kIQ2_S, avx512::GemmIQ2_S);
  SetGemm(t, DType::kIQ3_XXS, avx512::GemmIQ3_XXS);
  SetGemm(t, DType::kIQ3_S, avx512::GemmIQ3_S);
  SetVecDot(t, DType::kQ8_0, avx512::DotQ8_0);
  SetVecDot(t, DType::kQ4_0, avx512::DotQ4_0);
  SetVecDot(t, DType::kQ4_K, avx512::DotQ4_K);
  SetVecDot(t, DType::kQ6_K, avx512::DotQ6_K);
  SetVecDot(t, DType::kQ4_1, avx512::DotQ4_1);
  SetVecDot(t, DType::kQ5_0, avx512::DotQ5_0);
  SetVecDot(t, DType::kQ5_1, avx512::DotQ5_1);
  SetVecDot(t, DType::kIQ4_NL, avx512::DotIQ4_NL);
  SetVecDot(t, DType::kQ2_K, avx512::DotQ2_K);
  SetVecDot(t, DType::kQ3_K, avx512::DotQ3_K);
  SetVecDot(t, DType::kQ5_K, avx512::DotQ5_K);
  SetVecDot(t, DType::kF32, avx512::DotF32);
  SetVecDot(t, DType::kF16, avx512::DotF16);
  SetVecDot(t, DType::kBF16, avx512::DotBF16);
  const avx512::MatvecTiles tiles = avx512::MatvecTilesFor(GetCpuFeatures());
  for (const DTypeInfo& info : AllDTypes()) {
    const PackedBodies bodies = avx512::PackedBodiesFor(info.dtype, tiles);
    if (bodies.matvec != nullptr) SetPacked(t, info.dtype, bodies.matvec, bodies.gemm);
  }
  // Per entry rather than a level of its own: the avx512 level does not require VBMI and
  // BITALG (Cascade Lake lacks them), and where they are missing the avx2 body stays.
  if (HasAvx512VbmiBodies(GetCpuFeatures())) {
    SetVecDot(t, DType::kIQ2_XXS, avx512_vbmi::DotIQ2_XXS);
    SetVecDot(t, DType::kIQ2_XS, avx512_vbmi::DotIQ2_XS);
    SetVecDot(t, DType::kIQ3_XXS, avx512_vbmi::DotIQ3_XXS);
    SetVecDot(t, DType::kIQ3_S, avx512_vbmi::DotIQ3_S);
    // The gemms run one token as the dot per row with the tables loaded once: the matvec too.
    const std::pair<DType, RowsDotFn> gemms[] = {{DType::kIQ2_XXS, avx512_vbmi::GemmIQ2_XXS},
                                                 {DType::kIQ2_XS, avx512_vbmi::GemmIQ2_XS},
                                                 {DType::kIQ3_XXS, avx512_vbmi::GemmIQ3_XXS},
                                                 {DType::kIQ3_S, avx512_vbmi::GemmIQ3_S}};
    for (const auto& [dtype, gemm] : gemms) {
      SetGemm(t, dtype, gemm);
      SetMatvec(t, dtype, gemm);
    }
  }
#endif
  return t;
}

KernelTable AmxTable(const KernelTable& below) {
  KernelTable t = below;  // vec_dot and matvec stay avx512's: tiles need many tokens
  t.isa = Isa::kAmx;
#if DSINFER_KERNELS_X86
  SetGemm(t, DType::kQ8_0, amx::GemmQ8_0);
  SetGemm(t, DType::kBF16, amx::GemmBF16);
#endif
  return t;
}

const IsaLevels<KernelTable>& Tables() {
  static const auto kTables =
      BuildIsaLevels<KernelTable>(ScalarTable, Avx2Table, Avx512Table, AmxTable);
  return kTables;
}

}  // namespace

const KernelTable& KernelsFor(Isa isa) { return LevelFor(Tables(), isa, "kernel"); }

const KernelTable& Kernels() {
  static const KernelTable& selected_table = []() -> const KernelTable& {
    const StatusOr<Isa> selected = SelectedIsa();
    if (selected.ok()) return KernelsFor(*selected);
    const Isa best = BestIsa(GetCpuFeatures());
    LogError("{}; using the '{}' kernels", selected.status().ToString(), IsaName(best));
    return KernelsFor(best);
  }();
  return selected_table;
}

}  // namespace dsinfer::kernels
