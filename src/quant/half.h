// IEEE binary16 and bfloat16 conversions, bit-exact with ggml's scalar conversions
// (round to nearest, ties to even, subnormals kept; a NaN becomes F16 sign|0x7e00, while
// BF16 keeps the top payload bits and sets the quiet bit). These are the reference: SIMD paths
// (F16C, AVX-512 BF16) must agree with them bit for bit.
#ifndef DSINFER_QUANT_HALF_H_
#define DSINFER_QUANT_HALF_H_

#include <bit>
#include <cstdint>

namespace dsinfer {

float Fp16ToFp32(uint16_t h);
uint16_t Fp32ToFp16(float f);

inline float Bf16ToFp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// Round to nearest even; a NaN keeps its sign and top payload bits and is forced quiet, as
// ggml_compute_fp32_to_bf16 does.
inline uint16_t Fp32ToBf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffU) > 0x7f800000U) return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7fffU + ((u >> 16) & 1U))) >> 16);
}

}  // namespace dsinfer

#endif  // DSINFER_QUANT_HALF_H_
