// Rounding helpers shared by the quantisers.
#ifndef DSINFER_QUANT_ROUNDING_H_
#define DSINFER_QUANT_ROUNDING_H_

#include <bit>
#include <cstdint>

namespace dsinfer {

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 makes the float unit the
// integer grid, so the FPU's own rounding does the work. ggml's K-quant and IQ quantisers
// round this way (not with roundf, which breaks ties away from zero); matching it is what
// makes our bytes equal theirs.
inline int NearestInt(float x) {
  const float shifted = x + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(shifted) & 0x007fffffU) - 0x00400000;
}

}  // namespace dsinfer

#endif  // DSINFER_QUANT_ROUNDING_H_
