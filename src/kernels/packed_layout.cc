#include "kernels/packed_layout.h"

#include <cstddef>
#include <cstring>

#include "base/check.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels {

uint32_t Q5HighBitsForX8(uint32_t qh) {
  uint32_t x8 = 0;
  for (uint32_t j = 0; j < 4; ++j) {
    for (uint32_t k = 0; k < 4; ++k) {
      x8 |= ((qh >> (4 * j + k)) & 1U) << (8 * k + j);
      x8 |= ((qh >> (16 + 4 * j + k)) & 1U) << (8 * k + 4 + j);
    }
  }
  return x8;
}

uint32_t Q5HighBitsFromX8(uint32_t x8) {
  uint32_t qh = 0;
  for (uint32_t j = 0; j < 4; ++j) {
    for (uint32_t k = 0; k < 4; ++k) {
      qh |= ((x8 >> (8 * k + j)) & 1U) << (4 * j + k);
      qh |= ((x8 >> (8 * k + 4 + j)) & 1U) << (16 + 4 * j + k);
    }
  }
  return qh;
}

namespace {

// One row's block into row r of its x8 block (PackRow) and back (UnpackRow), per type. Each
// pair moves the same bytes in opposite directions; the layouts are in packed_layout.h.

// The 32-element nibble types (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL): d, the min m and the
// reordered qh where the type has them, and qs by k-group.
template <typename Row, typename Packed>
void PackNibbleRow(const Row& in, int r, Packed& out) {
  out.d[r] = in.d;
  if constexpr (requires { in.m; }) out.m[r] = in.m;
  if constexpr (requires { in.qh; }) {
    uint32_t qh = 0;
    std::memcpy(&qh, in.qh, sizeof(qh));  // little-endian, as ggml reads it
    out.qh[r] = Q5HighBitsForX8(qh);
  }
  for (int64_t j = 0; j < 4; ++j) std::memcpy(out.qs[j][r], in.qs + 4 * j, 4);
}
template <typename Packed, typename Row>
void UnpackNibbleRow(const Packed& in, int r, Row& out) {
  out.d = in.d[r];
  if constexpr (requires { out.m; }) out.m = in.m[r];
  if constexpr (requires { out.qh; }) {
    const uint32_t qh = Q5HighBitsFromX8(in.qh[r]);
    std::memcpy(out.qh, &qh, sizeof(qh));
  }
  for (int64_t j = 0; j < 4; ++j) std::memcpy(out.qs + 4 * j, in.qs[j][r], 4);
}

void PackRow(const BlockQ4_0& in, int r, BlockQ4_0x8& out) { PackNibbleRow(in, r, out); }
void UnpackRow(const BlockQ4_0x8& in, int r, BlockQ4_0& out) { UnpackNibbleRow(in, r, out); }
void PackRow(const BlockQ4_1& in, int r, BlockQ4_1x8& out) { PackNibbleRow(in, r, out); }
void UnpackRow(const BlockQ4_1x8& in, int r, BlockQ4_1& out) { UnpackNibbleRow(in, r, out); }
void PackRow(const BlockQ5_0& in, int r, BlockQ5_0x8& out) { PackNibbleRow(in, r, out); }
void UnpackRow(const BlockQ5_0x8& in, int r, BlockQ5_0& out) { UnpackNibbleRow(in, r, out); }
void PackRow(const BlockQ5_1& in, int r, BlockQ5_1x8& out) { PackNibbleRow(in, r, out); }
void UnpackRow(const BlockQ5_1x8& in, int r, BlockQ5_1& out) { UnpackNibbleRow(in, r, out); }
void PackRow(const BlockIQ4_NL& in, int r, BlockIQ4_NLx8& out) { PackNibbleRow(in, r, out); }
void UnpackRow(const BlockIQ4_NLx8& in, int r, BlockIQ4_NL& out) { UnpackNibbleRow(in, r, out); }

void PackRow(const BlockIQ4_XS& in, int r, BlockIQ4_XSx8& out) {
  out.d[r] = in.d;
  for (int sub = 0; sub < 8; ++sub) {
    out.scales[sub][r] = static_cast<int8_t>(quant_ref::UnpackScaleIQ4_XS(sub, in) - 32);
    for (int64_t j = 0; j < 4; ++j)
      std::memcpy(out.qs[sub][j][r], in.qs + ptrdiff_t{16} * sub + 4 * j, 4);
  }
}
void UnpackRow(const BlockIQ4_XSx8& in, int r, BlockIQ4_XS& out) {
  out.d = in.d[r];
  uint8_t ls[8];
  for (int sub = 0; sub < 8; ++sub) {
    ls[sub] = static_cast<uint8_t>(in.scales[sub][r] + 32);
    for (int64_t j = 0; j < 4; ++j)
      std::memcpy(out.qs + ptrdiff_t{16} * sub + 4 * j, in.qs[sub][j][r], 4);
  }
  quant_ref::PackScalesIQ4_XS(ls, out);
}

void PackRow(const BlockQ8_0& in, int r, BlockQ8_0x8& out) {
  out.d[r] = in.d;
  for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qs[j][r], in.qs + 4 * j, 4);
}
void UnpackRow(const BlockQ8_0x8& in, int r, BlockQ8_0& out) {
  out.d = in.d[r];
  for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qs + 4 * j, in.qs[j][r], 4);
}

void PackRow(const BlockQ2_K& in, int r, BlockQ2_Kx8& out) {
  out.d[r] = in.d;
  out.dmin[r] = in.dmin;
  for (int64_t sub = 0; sub < 16; ++sub) out.scales[sub][r] = in.scales[sub];
  for (int64_t j = 0; j < 8; ++j) {
    for (int64_t h = 0; h < 2; ++h) std::memcpy(out.q[j][h][r], in.qs + 32 * h + 4 * j, 4);
  }
}
void UnpackRow(const BlockQ2_Kx8& in, int r, BlockQ2_K& out) {
  out.d = in.d[r];
  out.dmin = in.dmin[r];
  for (int64_t sub = 0; sub < 16; ++sub) out.scales[sub] = in.scales[sub][r];
  for (int64_t j = 0; j < 8; ++j) {
    for (int64_t h = 0; h < 2; ++h) std::memcpy(out.qs + 32 * h + 4 * j, in.q[j][h][r], 4);
  }
}

void PackRow(const BlockQ3_K& in, int r, BlockQ3_Kx8& out) {
  out.d[r] = in.d;
  for (int sub = 0; sub < 16; ++sub) {
    out.scales[sub][r] = static_cast<int8_t>(quant_ref::UnpackScaleQ3K(sub, in.scales));
  }
  for (int64_t j = 0; j < 8; ++j) {
    std::memcpy(out.q[j][0][r], in.qs + 4 * j, 4);
    std::memcpy(out.q[j][1][r], in.qs + 32 + 4 * j, 4);
    std::memcpy(out.q[j][2][r], in.hmask + 4 * j, 4);
  }
}
void UnpackRow(const BlockQ3_Kx8& in, int r, BlockQ3_K& out) {
  out.d = in.d[r];
  int8_t scales[16];
  for (int64_t sub = 0; sub < 16; ++sub) scales[sub] = in.scales[sub][r];
  quant_ref::PackScalesQ3K(scales, out.scales);
  for (int64_t j = 0; j < 8; ++j) {
    std::memcpy(out.qs + 4 * j, in.q[j][0][r], 4);
    std::memcpy(out.qs + 32 + 4 * j, in.q[j][1][r], 4);
    std::memcpy(out.hmask + 4 * j, in.q[j][2][r], 4);
  }
}

// Q4_K and Q5_K: scales and mins unpacked to bytes, qs (and Q5_K's qh) by k-group.
template <typename Row, typename Packed>
void PackScalesMinsAndNibbles(const Row& in, int r, Packed& out) {
  out.d[r] = in.d;
  out.dmin[r] = in.dmin;
  for (int sub = 0; sub < 8; ++sub) {
    const quant_ref::KScaleMin pair = quant_ref::UnpackScaleMinK4(sub, in.scales);
    out.scales[sub][r] = pair.scale;
    out.mins[sub][r] = pair.min;
  }
  for (int64_t c = 0; c < 4; ++c) {
    for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qs[c][j][r], in.qs + 32 * c + 4 * j, 4);
  }
}
template <typename Packed, typename Row>
void UnpackScalesMinsAndNibbles(const Packed& in, int r, Row& out) {
  out.d = in.d[r];
  out.dmin = in.dmin[r];
  uint8_t scales[8], mins[8];
  for (int64_t sub = 0; sub < 8; ++sub) {
    scales[sub] = in.scales[sub][r];
    mins[sub] = in.mins[sub][r];
  }
  quant_ref::PackScaleMinK4(scales, mins, out.scales);
  for (int64_t c = 0; c < 4; ++c) {
    for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qs + 32 * c + 4 * j, in.qs[c][j][r], 4);
  }
}

void PackRow(const BlockQ4_K& in, int r, BlockQ4_Kx8& out) { PackScalesMinsAndNibbles(in, r, out); }
void UnpackRow(const BlockQ4_Kx8& in, int r, BlockQ4_K& out) {
  UnpackScalesMinsAndNibbles(in, r, out);
}

void PackRow(const BlockQ5_K& in, int r, BlockQ5_Kx8& out) {
  PackScalesMinsAndNibbles(in, r, out);
  for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qh[j][r], in.qh + 4 * j, 4);
}
void UnpackRow(const BlockQ5_Kx8& in, int r, BlockQ5_K& out) {
  UnpackScalesMinsAndNibbles(in, r, out);
  for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qh + 4 * j, in.qh[j][r], 4);
}

void PackRow(const BlockQ6_K& in, int r, BlockQ6_Kx8& out) {
  out.d[r] = in.d;
  for (int64_t sub = 0; sub < 16; ++sub) out.scales[sub][r] = in.scales[sub];
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t j = 0; j < 8; ++j) {
      std::memcpy(out.q[h][j][0][r], in.ql + 64 * h + 4 * j, 4);
      std::memcpy(out.q[h][j][1][r], in.ql + 64 * h + 32 + 4 * j, 4);
      std::memcpy(out.q[h][j][2][r], in.qh + 32 * h + 4 * j, 4);
    }
  }
}
void UnpackRow(const BlockQ6_Kx8& in, int r, BlockQ6_K& out) {
  out.d = in.d[r];
  for (int64_t sub = 0; sub < 16; ++sub) out.scales[sub] = in.scales[sub][r];
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t j = 0; j < 8; ++j) {
      std::memcpy(out.ql + 64 * h + 4 * j, in.q[h][j][0][r], 4);
      std::memcpy(out.ql + 64 * h + 32 + 4 * j, in.q[h][j][1][r], 4);
      std::memcpy(out.qh + 32 * h + 4 * j, in.q[h][j][2][r], 4);
    }
  }
}

// Calls fn(Row{}, Packed{}) with values of the row block type of `dtype` and of its x8 block.
template <typename Fn>
void WithPackedBlock(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kQ4_0: return fn(BlockQ4_0{}, BlockQ4_0x8{});
    case DType::kQ4_1: return fn(BlockQ4_1{}, BlockQ4_1x8{});
    case DType::kQ5_0: return fn(BlockQ5_0{}, BlockQ5_0x8{});
    case DType::kQ5_1: return fn(BlockQ5_1{}, BlockQ5_1x8{});
    case DType::kIQ4_NL: return fn(BlockIQ4_NL{}, BlockIQ4_NLx8{});
    case DType::kIQ4_XS: return fn(BlockIQ4_XS{}, BlockIQ4_XSx8{});
    case DType::kQ8_0: return fn(BlockQ8_0{}, BlockQ8_0x8{});
    case DType::kQ2_K: return fn(BlockQ2_K{}, BlockQ2_Kx8{});
    case DType::kQ3_K: return fn(BlockQ3_K{}, BlockQ3_Kx8{});
    case DType::kQ4_K: return fn(BlockQ4_K{}, BlockQ4_Kx8{});
    case DType::kQ5_K: return fn(BlockQ5_K{}, BlockQ5_Kx8{});
    case DType::kQ6_K: return fn(BlockQ6_K{}, BlockQ6_Kx8{});
    default: DSI_CHECK_MSG(false, "no packed layout for %d", static_cast<int>(dtype));
  }
}

}  // namespace

bool HasPackedLayout(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS:
    case DType::kQ8_0:
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return true;
    default: return false;
  }
}

int64_t PackedGroupBytes(DType dtype, int64_t n_in) {
  int64_t bytes = 0;
  WithPackedBlock(dtype, [&](auto /*row*/, auto packed) {
    bytes = n_in / GetDTypeInfo(dtype).block_size * static_cast<int64_t>(sizeof(packed));
  });
  return bytes;
}

void PackGroup(DType dtype, int64_t n_in, const std::byte* rows, int64_t row_bytes,
               std::byte* group) {
  WithPackedBlock(dtype, [&](auto row_block, auto packed) {
    using Row = decltype(row_block);
    using Packed = decltype(packed);
    auto* out = reinterpret_cast<Packed*>(group);
    for (int64_t b = 0; b < n_in / GetDTypeInfo(dtype).block_size; ++b) {
      for (int r = 0; r < kPackRows; ++r) {
        PackRow(reinterpret_cast<const Row*>(rows + r * row_bytes)[b], r, out[b]);
      }
    }
  });
}

void UnpackGroupRow(DType dtype, int64_t n_in, const std::byte* group, int r, std::byte* row) {
  WithPackedBlock(dtype, [&](auto row_block, auto packed) {
    using Row = decltype(row_block);
    using Packed = decltype(packed);
    const auto* in = reinterpret_cast<const Packed*>(group);
    auto* out = reinterpret_cast<Row*>(row);
    for (int64_t b = 0; b < n_in / GetDTypeInfo(dtype).block_size; ++b) UnpackRow(in[b], r, out[b]);
  });
}

}  // namespace dsinfer::kernels
