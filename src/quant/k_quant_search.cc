// ggml's K-quant scale searches (make_qx_quants, make_q3_quants, make_qkx2_quants), rewritten
// step for step. Every float expression keeps ggml's association order, e.g. `w * x * l` is
// (w * x) * l and `scale * l + min - x` is ((scale * l) + min) - x: a different order rounds
// differently, which flips a close comparison between candidates and changes the file bytes.
#include "quant/k_quant_search.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "quant/rounding.h"

namespace dsinfer::quant_ref {
namespace {

// The element of largest magnitude with its sign, and that magnitude. The first one wins ties,
// as in ggml (strict `>`).
void SignedAbsMax(int n, const float* x, float* max, float* amax) {
  *max = 0.0f;
  *amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > *amax) {
      *amax = ax;
      *max = x[i];
    }
  }
}

// The symmetric level of x on the grid 1/iscale, clamped to [-nmax, nmax - 1] (not offset).
int SymmetricLevel(float iscale, float x, int nmax) {
  return std::clamp(NearestInt(iscale * x), -nmax, nmax - 1);
}

}  // namespace

float SearchSymmetricScale(int n, int nmax, const float* x, const float* weights, int8_t* levels) {
  DSI_DCHECK(n > 0 && n <= kMaxSearchGroup);
  float max = 0.0f, amax = 0.0f;
  SignedAbsMax(n, x, &max, &amax);
  if (amax < kGroupMaxEps) {
    std::fill(levels, levels + n, int8_t{0});
    return 0.0f;
  }
  // Dividing by the signed max maps that element to -nmax, the level with no positive twin:
  // the asymmetric range [-nmax, nmax - 1] then covers the max's side one step further.
  const auto weight = [&](int i) { return weights != nullptr ? weights[i] : x[i] * x[i]; };

  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = SymmetricLevel(iscale, x[i], nmax);
    levels[i] = static_cast<int8_t>(l + nmax);
    const float w = weight(i);
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  // The least-squares scale for fixed levels is sumlx / suml2; its fit improves as
  // sumlx^2 / suml2 grows, which is what `best` tracks (as scale * sumlx).
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = 0.0f;
    suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = SymmetricLevel(iscale, x[i], nmax);
      const float w = weight(i);
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        levels[i] = static_cast<int8_t>(nmax + SymmetricLevel(iscale, x[i], nmax));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float SearchSymmetricScaleGreedy(int n, int nmax, const float* x, int8_t* levels) {
  DSI_DCHECK(n > 0 && n <= kMaxSearchGroup);
  float max = 0.0f, amax = 0.0f;
  SignedAbsMax(n, x, &max, &amax);
  if (amax < kGroupMaxEps) {
    std::fill(levels, levels + n, int8_t{0});
    return 0.0f;
  }
  const float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = SymmetricLevel(iscale, x[i], nmax);
    levels[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  // Coordinate descent: take element i out of the sums, find its best level against the
  // scale the others imply (sl2 / slx is 1 / scale), and keep the move if the fit improves.
  for (int pass = 0; pass < 5; ++pass) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const auto old_l = static_cast<float>(levels[i]);
      float slx = sumlx - w * x[i] * old_l;
      if (!(slx > 0.0f)) continue;  // written as ggml's `slx > 0`, so NaN skips too
      float sl2 = suml2 - w * old_l * old_l;
      const int new_l = std::clamp(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (new_l == levels[i]) continue;
      slx += w * x[i] * static_cast<float>(new_l);
      sl2 += w * static_cast<float>(new_l) * static_cast<float>(new_l);
      if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
        levels[i] = static_cast<int8_t>(new_l);
        sumlx = slx;
        suml2 = sl2;
        ++n_changed;
      }
    }
    if (n_changed == 0) break;
  }
  for (int i = 0; i < n; ++i) levels[i] = static_cast<int8_t>(levels[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float SearchScaleMin(int n, int nmax, const float* x, const float* weights,
                     const ScaleMinSearch& search, uint8_t* levels, float* neg_min) {
  DSI_DCHECK(n > 0 && n <= kMaxSearchGroup);
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  // The formats store a non-negative offset subtracted from scale * L, so the min can only
  // move down to 0; an all-positive group still starts its grid at 0.
  if (min > 0.0f) min = 0.0f;
  if (max == min) {
    std::fill(levels, levels + n, uint8_t{0});
    *neg_min = -min;
    return 0.0f;
  }
  const auto error_of = [&](float diff) { return search.use_mad ? std::fabs(diff) : diff * diff; };

  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    levels[i] = static_cast<uint8_t>(std::clamp(l, 0, nmax));
    const float diff = scale * static_cast<float>(levels[i]) + min - x[i];
    best_error += weights[i] * error_of(diff);
  }
  if (search.nstep < 1) {
    *neg_min = -min;
    return scale;
  }

  uint8_t candidate[kMaxSearchGroup];
  for (int is = 0; is <= search.nstep; ++is) {
    iscale = (search.rmin + search.rdelta * static_cast<float>(is) + static_cast<float>(nmax)) /
             (max - min);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
      candidate[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      const auto lf = static_cast<float>(l);
      sum_l += w * lf;
      sum_l2 += w * lf * lf;
      sum_xl += w * lf * x[i];
    }
    // Weighted least squares of x ≈ scale * l + min over the candidate's levels.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.0f)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0.0f) {
      this_min = 0.0f;
      this_scale = sum_xl / sum_l2;
    }
    float cur_error = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * static_cast<float>(candidate[i]) + this_min - x[i];
      cur_error += weights[i] * error_of(diff);
    }
    if (cur_error < best_error) {
      std::copy(candidate, candidate + n, levels);
      best_error = cur_error;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

}  // namespace dsinfer::quant_ref
