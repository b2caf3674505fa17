// F32, F16 and BF16 rows: conversion (the "quantisation" of the float types) and dots.
// Dots of half-precision weights take activations converted to the same type, as ggml does,
// and accumulate in double like ggml's scalar ggml_vec_dot_f16.
#include <cstring>

#include "quant/half.h"
#include "quant/reference.h"

namespace dsinfer::quant_ref {

void QuantizeF32(const float* x, void* out, int64_t n) {
  std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
}
void QuantizeF16(const float* x, void* out, int64_t n) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}
void QuantizeBF16(const float* x, void* out, int64_t n) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

void DequantizeF32(const void* in, float* y, int64_t n) {
  std::memcpy(y, in, static_cast<size_t>(n) * sizeof(float));
}
void DequantizeF16(const void* in, float* y, int64_t n) {
  const auto* x = static_cast<const uint16_t*>(in);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp16ToFp32(x[i]);
}
void DequantizeBF16(const void* in, float* y, int64_t n) {
  const auto* x = static_cast<const uint16_t*>(in);
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFp32(x[i]);
}

float DotF32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(sum);
}
float DotF16(int64_t n, const void* w, const void* x_f16) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x_f16);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(Fp16ToFp32(a[i]) * Fp16ToFp32(b[i]));
  }
  return static_cast<float>(sum);
}
float DotBF16(int64_t n, const void* w, const void* x_bf16) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x_bf16);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(Bf16ToFp32(a[i]) * Bf16ToFp32(b[i]));
  }
  return static_cast<float>(sum);
}

}  // namespace dsinfer::quant_ref
