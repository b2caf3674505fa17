#include "quant/half.h"

namespace dsinfer {

float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000U) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fU;
  uint32_t mantissa = h & 0x3ffU;
  uint32_t bits = 0;
  if (exponent == 0x1f) {  // inf or NaN: keep the payload
    bits = sign | 0x7f800000U | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400U) == 0);
    bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffU) << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t Fp32ToFp16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000U);
  const uint32_t abs = u & 0x7fffffffU;
  if (abs > 0x7f800000U)
    return static_cast<uint16_t>(sign | 0x7e00U);  // NaN: ggml's canonical quiet NaN
  if (abs >= 0x477ff000U) return static_cast<uint16_t>(sign | 0x7c00U);  // rounds to inf
  const int exponent = static_cast<int>(abs >> 23) - 127;
  if (exponent >= -14) {  // normal half: drop 13 mantissa bits, ties to even
    const uint32_t rounded = abs + 0xfffU + ((abs >> 13) & 1U);
    return static_cast<uint16_t>(sign | ((rounded - (112U << 23)) >> 13));
  }
  if (exponent < -25) return sign;  // below half the smallest subnormal: zero
  // Subnormal half: value = m * 2^-24 with m = (1.mantissa) * 2^(exponent + 24).
  const uint32_t mantissa = (abs & 0x7fffffU) | 0x800000U;
  const int shift = -exponent - 1;  // 14..24: bits dropped from the 24-bit significand
  const uint32_t half_ulp = 1U << (shift - 1);
  const uint32_t truncated = mantissa >> shift;
  const uint32_t remainder = mantissa & ((1U << shift) - 1);
  const uint32_t round_up = remainder > half_ulp || (remainder == half_ulp && (truncated & 1U));
  return static_cast<uint16_t>(sign | (truncated + round_up));
}

}  // namespace dsinfer
