// The AVX-512 inner loops of paged attention (kernels/attention.cc): declarations only, so that
// attention.cc, built without AVX-512 flags, can put them in its table of bodies. Call them only
// through that table for Isa::kAvx512 or higher: nothing here checks the CPU.
//
// Contracts (shared by the scalar and avx2 bodies of the same names):
//   AttentionScores*     s[r * s_stride + t] = q_r . k_t   for r < n_rows, t < n_k, where
//                        q_r = q + r * dim and k_t = k + t * k_stride (elements)
//   AttentionAccumulate* acc[r * dim + e] += sum_{t < n_v} p[r * p_stride + t] * v_t[e],
//                        v_t = v + t * v_stride (elements)
//   AttentionBlockSoftmax  one cache block's online-softmax step (kernels/attention.h) for
//                        n_rows rows of n_k scores, row r at s + r * s_stride seeing its first
//                        v_r = clamp(first_visible + r / rows_per_token, 0, n_k): b = the largest
//                        of those; if b > max[r], sum[r] and acc row r (dim_v floats at
//                        acc + r * dim_v) are multiplied by std::exp(max[r] - b) (unless max[r]
//                        is -inf) and max[r] = b; then the v_r scores become exp(s - max[r])
//                        (every one <= max[r]), their sum is added to sum[r], the rest become 0
// next_k / next_v: the first row of the cache block read after this one (same stride and
// width), whose rows [0, n_k) / [0, n_v) are asked for from memory while these are computed
// (x86/attention_prefetch.h); they must lie in the pool, as a whole block's do. Null when
// there is none. No value depends on them.
// The *F16 forms read k / v as IEEE half (widened exactly with vcvtph2ps).
//
// Numerics: one float accumulator chain per score (the same order whatever n_rows is), FMA;
// the exp is a degree-6 polynomial after range reduction (Cephes expf, relative error about
// 2 ulp), clamped below at -87.3 where it returns ~1e-38 instead of 0.
#ifndef DSINFER_KERNELS_X86_AVX512_ATTENTION_SIMD_H_
#define DSINFER_KERNELS_X86_AVX512_ATTENTION_SIMD_H_

#include <cstdint>

namespace dsinfer::kernels::avx512 {

void AttentionScoresF32(const float* q, int64_t n_rows, int64_t dim, const float* k,
                        int64_t k_stride, int64_t n_k, const float* next_k, float* s,
                        int64_t s_stride);
void AttentionScoresF16(const float* q, int64_t n_rows, int64_t dim, const uint16_t* k,
                        int64_t k_stride, int64_t n_k, const uint16_t* next_k, float* s,
                        int64_t s_stride);
void AttentionAccumulateF32(const float* p, int64_t p_stride, int64_t n_rows, const float* v,
                            int64_t v_stride, int64_t n_v, const float* next_v, int64_t dim,
                            float* acc);
void AttentionAccumulateF16(const float* p, int64_t p_stride, int64_t n_rows, const uint16_t* v,
                            int64_t v_stride, int64_t n_v, const uint16_t* next_v, int64_t dim,
                            float* acc);
void AttentionBlockSoftmax(float* s, int64_t s_stride, int64_t n_rows, int64_t rows_per_token,
                           int64_t first_visible, int64_t n_k, float* max, float* sum, float* acc,
                           int64_t dim_v);

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_ATTENTION_SIMD_H_
