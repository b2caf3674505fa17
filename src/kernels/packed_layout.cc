#include "kernels/packed_layout.h"

#include <cstring>
#include <type_traits>

#include "base/check.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels {
namespace {

template <typename Block>
const Block* RowBlocks(const std::byte* rows, int64_t row_bytes, int r) {
  return reinterpret_cast<const Block*>(rows + r * row_bytes);
}

// Row r of a Q4_K or Q5_K super-block into its x8 block: scales and mins unpacked to bytes,
// qs (and Q5_K's qh) by k-group.
template <typename Row, typename Packed>
void PackKQuantRow(const Row& in, int r, Packed& out) {
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
  if constexpr (std::is_same_v<Row, BlockQ5_K>) {
    for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qh[j][r], in.qh + 4 * j, 4);
  }
}

// The inverse of PackKQuantRow.
template <typename Packed, typename Row>
void UnpackKQuantRow(const Packed& in, int r, Row& out) {
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
  if constexpr (std::is_same_v<Row, BlockQ5_K>) {
    for (int64_t j = 0; j < 8; ++j) std::memcpy(out.qh + 4 * j, in.qh[j][r], 4);
  }
}

// Every super-block of 8 Q4_K or Q5_K rows.
template <typename Row, typename Packed>
void PackKQuantGroup(int64_t n_in, const std::byte* rows, int64_t row_bytes, std::byte* group) {
  auto* out = reinterpret_cast<Packed*>(group);
  for (int64_t b = 0; b < n_in / kQK_K; ++b) {
    for (int r = 0; r < kPackRows; ++r)
      PackKQuantRow(RowBlocks<Row>(rows, row_bytes, r)[b], r, out[b]);
  }
}

template <typename Packed, typename Row>
void UnpackKQuantGroupRow(int64_t n_in, const std::byte* group, int r, std::byte* row) {
  const auto* in = reinterpret_cast<const Packed*>(group);
  auto* out = reinterpret_cast<Row*>(row);
  for (int64_t b = 0; b < n_in / kQK_K; ++b) UnpackKQuantRow(in[b], r, out[b]);
}

}  // namespace

uint32_t Q5_0HighBitsForX8(uint32_t qh) {
  uint32_t x8 = 0;
  for (uint32_t j = 0; j < 4; ++j) {
    for (uint32_t k = 0; k < 4; ++k) {
      x8 |= ((qh >> (4 * j + k)) & 1U) << (8 * k + j);
      x8 |= ((qh >> (16 + 4 * j + k)) & 1U) << (8 * k + 4 + j);
    }
  }
  return x8;
}

uint32_t Q5_0HighBitsFromX8(uint32_t x8) {
  uint32_t qh = 0;
  for (uint32_t j = 0; j < 4; ++j) {
    for (uint32_t k = 0; k < 4; ++k) {
      qh |= ((x8 >> (8 * k + j)) & 1U) << (4 * j + k);
      qh |= ((x8 >> (8 * k + 4 + j)) & 1U) << (16 + 4 * j + k);
    }
  }
  return qh;
}

bool HasPackedLayout(DType dtype) {
  return dtype == DType::kQ4_0 || dtype == DType::kQ5_0 || dtype == DType::kQ8_0 ||
         dtype == DType::kQ4_K || dtype == DType::kQ5_K || dtype == DType::kQ6_K;
}

int64_t PackedGroupBytes(DType dtype, int64_t n_in) {
  switch (dtype) {
    case DType::kQ4_0: return n_in / kQK * static_cast<int64_t>(sizeof(BlockQ4_0x8));
    case DType::kQ5_0: return n_in / kQK * static_cast<int64_t>(sizeof(BlockQ5_0x8));
    case DType::kQ8_0: return n_in / kQK * static_cast<int64_t>(sizeof(BlockQ8_0x8));
    case DType::kQ4_K: return n_in / kQK_K * static_cast<int64_t>(sizeof(BlockQ4_Kx8));
    case DType::kQ5_K: return n_in / kQK_K * static_cast<int64_t>(sizeof(BlockQ5_Kx8));
    case DType::kQ6_K: return n_in / kQK_K * static_cast<int64_t>(sizeof(BlockQ6_Kx8));
    default: DSI_CHECK_MSG(false, "no packed layout for %d", static_cast<int>(dtype)); return 0;
  }
}

void PackGroup(DType dtype, int64_t n_in, const std::byte* rows, int64_t row_bytes,
               std::byte* group) {
  switch (dtype) {
    case DType::kQ4_0: {
      auto* out = reinterpret_cast<BlockQ4_0x8*>(group);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        for (int r = 0; r < kPackRows; ++r) {
          const BlockQ4_0& in = RowBlocks<BlockQ4_0>(rows, row_bytes, r)[b];
          out[b].d[r] = in.d;
          for (int64_t j = 0; j < 4; ++j) std::memcpy(out[b].qs[j][r], in.qs + 4 * j, 4);
        }
      }
      return;
    }
    case DType::kQ5_0: {
      auto* out = reinterpret_cast<BlockQ5_0x8*>(group);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        for (int r = 0; r < kPackRows; ++r) {
          const BlockQ5_0& in = RowBlocks<BlockQ5_0>(rows, row_bytes, r)[b];
          out[b].d[r] = in.d;
          uint32_t qh = 0;
          std::memcpy(&qh, in.qh, sizeof(qh));  // little-endian, as ggml reads it
          out[b].qh[r] = Q5_0HighBitsForX8(qh);
          for (int64_t j = 0; j < 4; ++j) std::memcpy(out[b].qs[j][r], in.qs + 4 * j, 4);
        }
      }
      return;
    }
    case DType::kQ8_0: {
      auto* out = reinterpret_cast<BlockQ8_0x8*>(group);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        for (int r = 0; r < kPackRows; ++r) {
          const BlockQ8_0& in = RowBlocks<BlockQ8_0>(rows, row_bytes, r)[b];
          out[b].d[r] = in.d;
          for (int64_t j = 0; j < 8; ++j) std::memcpy(out[b].qs[j][r], in.qs + 4 * j, 4);
        }
      }
      return;
    }
    case DType::kQ4_K:
      PackKQuantGroup<BlockQ4_K, BlockQ4_Kx8>(n_in, rows, row_bytes, group);
      return;
    case DType::kQ5_K:
      PackKQuantGroup<BlockQ5_K, BlockQ5_Kx8>(n_in, rows, row_bytes, group);
      return;
    case DType::kQ6_K: {
      auto* out = reinterpret_cast<BlockQ6_Kx8*>(group);
      for (int64_t b = 0; b < n_in / kQK_K; ++b) {
        for (int r = 0; r < kPackRows; ++r) {
          const BlockQ6_K& in = RowBlocks<BlockQ6_K>(rows, row_bytes, r)[b];
          out[b].d[r] = in.d;
          for (int64_t sub = 0; sub < 16; ++sub) out[b].scales[sub][r] = in.scales[sub];
          for (int64_t h = 0; h < 2; ++h) {
            for (int64_t j = 0; j < 8; ++j) {
              std::memcpy(out[b].q[h][j][0][r], in.ql + 64 * h + 4 * j, 4);
              std::memcpy(out[b].q[h][j][1][r], in.ql + 64 * h + 32 + 4 * j, 4);
              std::memcpy(out[b].q[h][j][2][r], in.qh + 32 * h + 4 * j, 4);
            }
          }
        }
      }
      return;
    }
    default: DSI_CHECK_MSG(false, "no packed layout for %d", static_cast<int>(dtype));
  }
}

void UnpackGroupRow(DType dtype, int64_t n_in, const std::byte* group, int r, std::byte* row) {
  switch (dtype) {
    case DType::kQ4_0: {
      const auto* in = reinterpret_cast<const BlockQ4_0x8*>(group);
      auto* out = reinterpret_cast<BlockQ4_0*>(row);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        out[b].d = in[b].d[r];
        for (int64_t j = 0; j < 4; ++j) std::memcpy(out[b].qs + 4 * j, in[b].qs[j][r], 4);
      }
      return;
    }
    case DType::kQ5_0: {
      const auto* in = reinterpret_cast<const BlockQ5_0x8*>(group);
      auto* out = reinterpret_cast<BlockQ5_0*>(row);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        out[b].d = in[b].d[r];
        const uint32_t qh = Q5_0HighBitsFromX8(in[b].qh[r]);
        std::memcpy(out[b].qh, &qh, sizeof(qh));
        for (int64_t j = 0; j < 4; ++j) std::memcpy(out[b].qs + 4 * j, in[b].qs[j][r], 4);
      }
      return;
    }
    case DType::kQ8_0: {
      const auto* in = reinterpret_cast<const BlockQ8_0x8*>(group);
      auto* out = reinterpret_cast<BlockQ8_0*>(row);
      for (int64_t b = 0; b < n_in / kQK; ++b) {
        out[b].d = in[b].d[r];
        for (int64_t j = 0; j < 8; ++j) std::memcpy(out[b].qs + 4 * j, in[b].qs[j][r], 4);
      }
      return;
    }
    case DType::kQ4_K: UnpackKQuantGroupRow<BlockQ4_Kx8, BlockQ4_K>(n_in, group, r, row); return;
    case DType::kQ5_K: UnpackKQuantGroupRow<BlockQ5_Kx8, BlockQ5_K>(n_in, group, r, row); return;
    case DType::kQ6_K: {
      const auto* in = reinterpret_cast<const BlockQ6_Kx8*>(group);
      auto* out = reinterpret_cast<BlockQ6_K*>(row);
      for (int64_t b = 0; b < n_in / kQK_K; ++b) {
        out[b].d = in[b].d[r];
        for (int64_t sub = 0; sub < 16; ++sub) out[b].scales[sub] = in[b].scales[sub][r];
        for (int64_t h = 0; h < 2; ++h) {
          for (int64_t j = 0; j < 8; ++j) {
            std::memcpy(out[b].ql + 64 * h + 4 * j, in[b].q[h][j][0][r], 4);
            std::memcpy(out[b].ql + 64 * h + 32 + 4 * j, in[b].q[h][j][1][r], 4);
            std::memcpy(out[b].qh + 32 * h + 4 * j, in[b].q[h][j][2][r], 4);
          }
        }
      }
      return;
    }
    default: DSI_CHECK_MSG(false, "no packed layout for %d", static_cast<int>(dtype));
  }
}

}  // namespace dsinfer::kernels
