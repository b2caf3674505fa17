#include "model/llama3_rope_freqs.h"

#include <cmath>
#include <numbers>

namespace dsinfer {

float Llama3RopeDivisor(const RopeScalingConfig& rope, int64_t head_dim, int64_t i) {
  const double inv_freq =
      std::pow(rope.theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
  const double wavelen = 2 * std::numbers::pi / inv_freq;
  const double old_ctx = static_cast<double>(rope.original_max_position_embeddings);
  const double low_wavelen = old_ctx / rope.low_freq_factor;
  const double high_wavelen = old_ctx / rope.high_freq_factor;
  if (wavelen < high_wavelen) return 1.0F;
  if (wavelen > low_wavelen) return static_cast<float>(rope.factor);
  const double smooth =
      (old_ctx / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
  return static_cast<float>(1.0 / ((1 - smooth) / rope.factor + smooth));
}

}  // namespace dsinfer
