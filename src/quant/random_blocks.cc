#include "quant/random_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Stores the block's f16 scale (IQ1_M's is spread over its scales: iq_grids.h).
void SetScale(DType dtype, std::byte* block, uint16_t d) {
  if (dtype != DType::kIQ1_M) {
    std::memcpy(block, &d, sizeof(d));  // the other lattice types start with d
    return;
  }
  uint16_t words[4];
  std::byte* scales = block + offsetof(BlockIQ1_M, scales);
  std::memcpy(words, scales, sizeof(words));
  SetIq1mDBits(words, d);
  std::memcpy(scales, words, sizeof(words));
}

}  // namespace

Status FillRandomBlocks(DType dtype, uint64_t seed, float rms, std::span<std::byte> blocks) {
  const QuantOps* ops = FindQuantOps(dtype);
  if (ops == nullptr || ops->quantize != nullptr || ops->vec_dot == nullptr) {
    return UnimplementedError(
        fmt::format("random codes: {} is not a read-only weight type", DTypeName(dtype)));
  }
  const DTypeInfo& info = GetDTypeInfo(dtype);
  const auto block_bytes = static_cast<size_t>(info.type_size);
  if (blocks.size() % block_bytes != 0) {
    return InvalidArgumentError(fmt::format("random codes: {} bytes are not whole {} blocks",
                                            blocks.size(), DTypeName(dtype)));
  }
  std::vector<float> values(static_cast<size_t>(info.block_size));
  uint64_t state = seed;
  for (size_t off = 0; off < blocks.size(); off += block_bytes) {
    std::byte* block = blocks.data() + off;
    for (size_t i = 0; i < block_bytes; i += sizeof(uint64_t)) {
      const uint64_t bits = SplitMix64(state);
      std::memcpy(block + i, &bits, std::min(sizeof(bits), block_bytes - i));
    }
    SetScale(dtype, block, Fp32ToFp16(1.0F));
    ops->dequantize(block, values.data(), info.block_size);
    double sum_sq = 0;
    for (float v : values) sum_sq += static_cast<double>(v) * v;
    const double unit_rms = std::sqrt(sum_sq / static_cast<double>(values.size()));
    SetScale(dtype, block, Fp32ToFp16(unit_rms > 0 ? static_cast<float>(rms / unit_rms) : rms));
  }
  return Status::Ok();
}

}  // namespace dsinfer
