// The AVX2 bodies of the element-wise and row-wise ops (this folder is compiled with
// -mavx2 -mfma -mf16c): declarations only, so that kernels/elementwise.cc, built without those
// flags, can put them in the avx2 ElementwiseTable. Call them only through
// ElementwiseFor(Isa::kAvx2) or higher: nothing here checks the CPU. Contracts are those of
// the table entries in kernels/elementwise.h (n >= 0, out may alias an input exactly).
#ifndef DSINFER_KERNELS_X86_AVX2_ELEMENTWISE_SIMD_H_
#define DSINFER_KERNELS_X86_AVX2_ELEMENTWISE_SIMD_H_

#include <cstdint>

namespace dsinfer::kernels::avx2 {

void ExpRow(const float* x, float* out, int64_t n);
void RmsNormRow(const float* x, const float* weight, float eps, float* out, int64_t dim);
float RowMax(const float* x, int64_t n);
double ExpSubSumRow(const float* x, float max, float* out, int64_t n);
void SiluMulRow(const float* gate, const float* up, float* out, int64_t n);
void AddRow(const float* a, const float* b, float* out, int64_t n);
void ScaleRow(const float* x, float scale, float* out, int64_t n);

}  // namespace dsinfer::kernels::avx2

#endif  // DSINFER_KERNELS_X86_AVX2_ELEMENTWISE_SIMD_H_
