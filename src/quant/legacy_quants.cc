// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1: ggml's original 32-element formats.
//
// The quantisers reproduce ggml's reference rounding: truncating float-to-int8 casts after
// adding 8.5 / 16.5 / 0.5 (not round()), roundf() for Q8, and the signed "max" element (the
// one with the largest magnitude, sign kept) as the scale source of the symmetric formats.
// The dots accumulate integer sums per block and multiply by the scales in ggml's order.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/reference.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kHalf = kQK / 2;

// The element of largest magnitude, with its sign.
float SignedAbsMax(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

// ggml's legacy quantisers turn a scaled value into a level by adding an offset (8.5, 16.5 or
// 0.5) and truncating toward zero, then clamping: not round(). The bytes of every Q4/Q5 file
// depend on that, so it is reproduced exactly.
uint8_t OffsetLevel(float scaled, float offset, int max_level) {
  const auto truncated =
      static_cast<int8_t>(scaled + offset);  // NOLINT(bugprone-incorrect-roundings)
  return static_cast<uint8_t>(std::min(max_level, static_cast<int>(truncated)));
}

uint32_t LoadQh(const uint8_t qh[4]) {
  uint32_t v = 0;
  std::memcpy(&v, qh, sizeof(v));
  return v;
}

// The 5-bit value j (0..31) of a Q5 block: low nibble from qs, bit 4 from qh.
int Q5Value(const uint8_t* qs, uint32_t qh, int j) {
  const int nibble = j < kHalf ? (qs[j] & 0x0F) : (qs[j - kHalf] >> 4);
  return nibble | static_cast<int>(((qh >> j) & 1U) << 4);
}

}  // namespace

void QuantizeQ4_0(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = SignedAbsMax(x) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kHalf; ++j) {
      const uint8_t lo = OffsetLevel(x[j] * id, 8.5f, 15);
      const uint8_t hi = OffsetLevel(x[j + kHalf] * id, 8.5f, 15);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantizeQ4_1(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ4_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min = 0, max = 0;
    MinMax(x, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    for (int j = 0; j < kHalf; ++j) {
      const uint8_t lo = OffsetLevel((x[j] - min) * id, 0.5f, 15);
      const uint8_t hi = OffsetLevel((x[j + kHalf] - min) * id, 0.5f, 15);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantizeQ5_0(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ5_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = SignedAbsMax(x) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      const uint8_t lo = OffsetLevel(x[j] * id, 16.5f, 31);
      const uint8_t hi = OffsetLevel(x[j + kHalf] * id, 16.5f, 31);
      y[i].qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= ((lo & 0x10U) >> 4) << j;
      qh |= ((hi & 0x10U) >> 4) << (j + kHalf);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void QuantizeQ5_1(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ5_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min = 0, max = 0;
    MinMax(x, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      const uint8_t lo = OffsetLevel((x[j] - min) * id, 0.5f, 31);
      const uint8_t hi =
          OffsetLevel((x[j + kHalf] - min) * id, 0.5f, 31);  // max level 31 by construction
      y[i].qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= ((lo & 0x10U) >> 4) << j;
      qh |= ((hi & 0x10U) >> 4) << (j + kHalf);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void QuantizeQ8_0(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void QuantizeQ8_1(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    int sum = 0;
    for (int j = 0; j < kHalf; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      y[i].qs[j + kHalf] = static_cast<int8_t>(std::round(x[j + kHalf] * id));
      sum += y[i].qs[j] + y[i].qs[j + kHalf];
    }
    y[i].s = Fp32ToFp16(static_cast<float>(sum) * d);
  }
}

void DequantizeQ4_0(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kHalf] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantizeQ4_1(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    for (int j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + kHalf] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

void DequantizeQ5_0(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const uint32_t qh = LoadQh(x[i].qh);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(Q5Value(x[i].qs, qh, j) - 16) * d;
  }
}

void DequantizeQ5_1(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    const uint32_t qh = LoadQh(x[i].qh);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(Q5Value(x[i].qs, qh, j)) * d + m;
  }
}

void DequantizeQ8_0(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DequantizeQ8_1(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_1*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

float DotQ4_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum_lo = 0, sum_hi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sum_lo += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
      sum_hi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + kHalf];
    }
    sum += static_cast<float>(sum_lo + sum_hi) * Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d);
  }
  return sum;
}

float DotQ4_1(int64_t n, const void* w, const void* q8_1) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(q8_1);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum_lo = 0, sum_hi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sum_lo += (x[i].qs[j] & 0x0F) * y[i].qs[j];
      sum_hi += (x[i].qs[j] >> 4) * y[i].qs[j + kHalf];
    }
    // The min term uses the activation block's precomputed sum: m * d_y * sum(q_y).
    sum += (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d)) * static_cast<float>(sum_lo + sum_hi) +
           Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sum;
}

float DotQ5_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const uint32_t qh = LoadQh(x[i].qh);
    int sum_lo = 0, sum_hi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sum_lo += (Q5Value(x[i].qs, qh, j) - 16) * y[i].qs[j];
      sum_hi += (Q5Value(x[i].qs, qh, j + kHalf) - 16) * y[i].qs[j + kHalf];
    }
    sum += (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d)) * static_cast<float>(sum_lo + sum_hi);
  }
  return sum;
}

float DotQ5_1(int64_t n, const void* w, const void* q8_1) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(q8_1);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const uint32_t qh = LoadQh(x[i].qh);
    int sum_lo = 0, sum_hi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sum_lo += Q5Value(x[i].qs, qh, j) * y[i].qs[j];
      sum_hi += Q5Value(x[i].qs, qh, j + kHalf) * y[i].qs[j + kHalf];
    }
    sum += (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d)) * static_cast<float>(sum_lo + sum_hi) +
           Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sum;
}

float DotQ8_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum += static_cast<float>(sumi) * (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d));
  }
  return sum;
}

}  // namespace dsinfer::quant_ref
