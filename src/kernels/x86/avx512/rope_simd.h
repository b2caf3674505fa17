// The AVX-512 bodies of RoPE (this folder is compiled with -mavx512{f,bw,vl,dq,vnni} -mavx2 -mfma):
// declarations only, so that kernels/rope.cc, built without those flags, can put them in the
// avx512 RopeTable. Call them only through RopeKernelsFor(Isa::kAvx512) or higher: nothing here
// checks the CPU. Contracts are those of the table entries in kernels/rope.h.
#ifndef DSINFER_KERNELS_X86_AVX512_ROPE_SIMD_H_
#define DSINFER_KERNELS_X86_AVX512_ROPE_SIMD_H_

#include <cstdint>

namespace dsinfer::kernels::avx512 {

void RopeCosSin(const float* inv_freq, int64_t n, int64_t position, double attention_factor,
                float* cos_out, float* sin_out);
void RopeRotateHalfSplit(const float* cos_a, const float* sin_a, int64_t half, float* x);
void RopeRotateInterleaved(const float* cos2, const float* sin2, int64_t dims, float* x);

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_ROPE_SIMD_H_
