// AVX2 gemm bodies of BF16 weights x BF16 activations and F16 x F16 (prefill, MoE expert
// batches): the 256-bit tiles of x86/gemm_16bit_floats_256.inc at 2 weight rows x 4 tokens
// (8 float accumulators plus the widened operands fill the 16 ymm registers).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx2 {
namespace {

#include "kernels/x86/gemm_16bit_floats_256.inc"

constexpr int kTileRows = 2;

}  // namespace

void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  GemmHalf256<Bf16x16, kTileRows>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y,
                                  ldy);
}

void GemmF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
             const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  GemmHalf256<F16x16, kTileRows>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y,
                                 ldy);
}

}  // namespace dsinfer::kernels::avx2
