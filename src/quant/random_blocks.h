// Random weights for the types dsinfer reads but cannot quantise to (QuantOps::quantize is
// null: the lattice types IQ1_*, IQ2_* and IQ3_*). Random codes in every field, then each block's
// scale set so that the block's dequantised values have the requested RMS: a valid block of the
// real layout, which is all that `random-model` and the tests need of such a tensor.
//
// Thread safety: pure function over caller-owned memory.
#ifndef DSINFER_QUANT_RANDOM_BLOCKS_H_
#define DSINFER_QUANT_RANDOM_BLOCKS_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "tensor/dtype.h"

namespace dsinfer {

// Fills `blocks` (a whole number of `dtype` blocks) from `seed`; the same seed gives the same
// bytes. Unimplemented for types this does not cover.
Status FillRandomBlocks(DType dtype, uint64_t seed, float rms, std::span<std::byte> blocks);

}  // namespace dsinfer

#endif  // DSINFER_QUANT_RANDOM_BLOCKS_H_
