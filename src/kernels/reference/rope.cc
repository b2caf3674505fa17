#include "kernels/reference/rope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/reference/op_checks.h"

namespace dsinfer {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

bool PositiveFinite(double v) { return std::isfinite(v) && v > 0.0; }

Status ValidateRopeConfig(const RopeConfig& c) {
  if (c.dims <= 0 || c.dims % 2 != 0) {
    return InvalidArgumentError(fmt::format(
        "rope dims (head_dim or qk_rope_head_dim) must be positive and even, got {}", c.dims));
  }
  if (!PositiveFinite(c.theta)) {
    return InvalidArgumentError(fmt::format("rope_theta must be > 0, got {}", c.theta));
  }
  if (c.scaling == RopeScalingType::kNone) return Status::Ok();
  if (!PositiveFinite(c.factor)) {
    return InvalidArgumentError(fmt::format("rope_scaling.factor must be > 0, got {}", c.factor));
  }
  if (c.scaling == RopeScalingType::kLinear) return Status::Ok();
  if (c.original_max_position <= 0) {
    return InvalidArgumentError(
        fmt::format("rope_scaling.original_max_position_embeddings must be > 0, got {}",
                    c.original_max_position));
  }
  if (c.scaling == RopeScalingType::kYarn) {
    if (c.theta <= 1.0) {
      return InvalidArgumentError(
          fmt::format("rope_theta must be > 1 for yarn scaling, got {}", c.theta));
    }
    if (!PositiveFinite(c.beta_slow) || !std::isfinite(c.beta_fast) || c.beta_fast <= c.beta_slow) {
      return InvalidArgumentError(fmt::format(
          "rope_scaling.beta_fast ({}) must be greater than rope_scaling.beta_slow ({}) > 0",
          c.beta_fast, c.beta_slow));
    }
    if (!std::isfinite(c.mscale) || !std::isfinite(c.mscale_all_dim)) {
      return InvalidArgumentError("rope_scaling.mscale and mscale_all_dim must be finite");
    }
    return Status::Ok();
  }
  // kLlama3
  if (!PositiveFinite(c.low_freq_factor) || !std::isfinite(c.high_freq_factor) ||
      c.high_freq_factor <= c.low_freq_factor) {
    return InvalidArgumentError(fmt::format(
        "rope_scaling.high_freq_factor ({}) must be greater than low_freq_factor ({}) > 0",
        c.high_freq_factor, c.low_freq_factor));
  }
  return Status::Ok();
}

// §3.6 steps 1-4: the blend weight r_i (0: unchanged, 1: divided by factor) for each pair.
std::vector<double> YarnRamp(const RopeConfig& c) {
  const double d = c.dims;
  const auto corr_dim = [&](double n_rot) {
    return d * std::log(static_cast<double>(c.original_max_position) / (n_rot * kTwoPi)) /
           (2.0 * std::log(c.theta));
  };
  const double low = std::max(std::floor(corr_dim(c.beta_fast)), 0.0);
  double high = std::min(std::ceil(corr_dim(c.beta_slow)), d - 1.0);
  if (high == low) high += 0.001;  // as HF: avoids a zero-width ramp
  std::vector<double> ramp(static_cast<size_t>(c.dims / 2));
  for (size_t i = 0; i < ramp.size(); ++i) {
    ramp[i] = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
  }
  return ramp;
}

// §3.8: wavelengths shorter than L0/high_freq_factor keep their frequency, longer than
// L0/low_freq_factor are divided by factor, and the band between is blended.
double Llama3Scale(const RopeConfig& c, double inv_freq) {
  const double old = static_cast<double>(c.original_max_position);
  const double wavelen = kTwoPi / inv_freq;
  if (wavelen < old / c.high_freq_factor) return inv_freq;
  if (wavelen > old / c.low_freq_factor) return inv_freq / c.factor;
  const double s = (old / wavelen - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
  return (1.0 - s) * inv_freq / c.factor + s * inv_freq;
}

// The one rotation both entry points share, so the batch form is bit-identical to ApplyRope.
// cos_a/sin_a already carry the attention factor.
void RotatePairs(RopePairing pairing, std::span<const double> cos_a, std::span<const double> sin_a,
                 float* x) {
  const size_t half = cos_a.size();
  for (size_t i = 0; i < half; ++i) {
    const size_t iu = pairing == RopePairing::kInterleaved ? 2 * i : i;
    const size_t iw = pairing == RopePairing::kInterleaved ? 2 * i + 1 : i + half;
    const double u = x[iu];
    const double w = x[iw];
    x[iu] = static_cast<float>(u * cos_a[i] - w * sin_a[i]);
    x[iw] = static_cast<float>(u * sin_a[i] + w * cos_a[i]);
  }
}

// Angles in double: exact for the float frequency table at any position (see header).
void CosSin(std::span<const float> inv_freq, int64_t position, double attention_factor,
            std::span<double> cos_a, std::span<double> sin_a) {
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    const double angle = static_cast<double>(position) * static_cast<double>(inv_freq[i]);
    cos_a[i] = std::cos(angle) * attention_factor;
    sin_a[i] = std::sin(angle) * attention_factor;
  }
}

}  // namespace

StatusOr<std::vector<float>> RopeInverseFrequencies(const RopeConfig& config) {
  DSI_RETURN_IF_ERROR(ValidateRopeConfig(config));
  const size_t half = static_cast<size_t>(config.dims / 2);
  std::vector<double> ramp;
  if (config.scaling == RopeScalingType::kYarn) ramp = YarnRamp(config);

  std::vector<float> out(half);
  for (size_t i = 0; i < half; ++i) {
    const double base =
        std::pow(config.theta, -2.0 * static_cast<double>(i) / static_cast<double>(config.dims));
    double scaled = base;
    switch (config.scaling) {
      case RopeScalingType::kNone: break;
      case RopeScalingType::kLinear: scaled = base / config.factor; break;
      case RopeScalingType::kYarn:
        scaled = base / config.factor * ramp[i] + base * (1.0 - ramp[i]);
        break;
      case RopeScalingType::kLlama3: scaled = Llama3Scale(config, base); break;
    }
    out[i] = static_cast<float>(scaled);
  }
  return out;
}

double YarnMscale(double scale, double c) {
  return scale <= 1.0 ? 1.0 : 0.1 * c * std::log(scale) + 1.0;
}

double YarnAttentionFactor(const RopeConfig& config) {
  if (config.scaling != RopeScalingType::kYarn) return 1.0;
  return YarnMscale(config.factor, config.mscale) /
         YarnMscale(config.factor, config.mscale_all_dim);
}

double MlaSoftmaxScale(int qk_head_dim, double factor, double mscale_all_dim) {
  const double m = YarnMscale(factor, mscale_all_dim);
  return m * m / std::sqrt(static_cast<double>(qk_head_dim));
}

void ApplyRope(RopePairing pairing, std::span<const float> inv_freq, int64_t position, float* x,
               int dims, double attention_factor) {
  CheckRopeArgs(inv_freq.size(), dims);
  std::vector<double> cos_a(inv_freq.size());
  std::vector<double> sin_a(inv_freq.size());
  CosSin(inv_freq, position, attention_factor, cos_a, sin_a);
  RotatePairs(pairing, cos_a, sin_a, x);
}

void ApplyRopeBatch(RopePairing pairing, std::span<const float> inv_freq,
                    std::span<const int64_t> positions, const RopeBatchLayout& layout,
                    std::span<float> x, double attention_factor) {
  CheckRopeBatchArgs(inv_freq.size(), positions.size(), layout, x.size());
  const int64_t token_stride = layout.n_heads * layout.head_dim;
  // cos/sin once per token, shared by its heads.
  std::vector<double> cos_a(inv_freq.size());
  std::vector<double> sin_a(inv_freq.size());
  for (size_t t = 0; t < positions.size(); ++t) {
    CosSin(inv_freq, positions[t], attention_factor, cos_a, sin_a);
    float* token = x.data() + static_cast<int64_t>(t) * token_stride;
    for (int64_t h = 0; h < layout.n_heads; ++h) {
      RotatePairs(pairing, cos_a, sin_a, token + h * layout.head_dim + layout.rope_offset);
    }
  }
}

}  // namespace dsinfer
