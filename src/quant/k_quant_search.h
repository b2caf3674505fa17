// Scale searches of ggml's K-quant reference quantisers (ggml-quants.c), shared by the
// Q2_K/Q3_K/Q6_K (k_quants_low.cc) and Q4_K/Q5_K (k_quants_mid.cc) quantisers.
//
// Each search picks, for one small group of floats, a scale (and for the asymmetric formats a
// min) plus the integer level of every element. They are not least-squares optimal; they are
// ggml's heuristics, reproduced step for step, because the bytes of a model file depend on
// which candidate wins. Float operations keep ggml's order and the library is built with
// -ffp-contract=off, so ties are decided the way ggml's reference build decides them.
//
//   ggml name          ours
//   make_qx_quants     SearchSymmetricScale      (rmse_type 1, the only variant the refs use)
//   make_q3_quants     SearchSymmetricScaleGreedy (do_rmse = true)
//   make_qkx2_quants   SearchScaleMin
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_QUANT_K_QUANT_SEARCH_H_
#define DSINFER_QUANT_K_QUANT_SEARCH_H_

#include <cstdint>

namespace dsinfer::quant_ref {

// Largest group any search accepts (scratch buffers are sized by it).
inline constexpr int kMaxSearchGroup = 256;

// Groups whose largest magnitude is below this quantise to all-zero levels and scale 0
// (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Symmetric levels in [0, 2*nmax - 1] (stored offset by nmax) with x[i] ≈ scale * (L[i] - nmax).
// Starts from the grid set by the signed largest-magnitude element, then tries 18 nearby grids
// (nmax ± 0.1k) and keeps the one with the best weighted least-squares fit. `weights` may be
// null, meaning x[i]^2. Returns the scale (0 for an all-zero group).
float SearchSymmetricScale(int n, int nmax, const float* x, const float* weights, int8_t* levels);

// Q3_K's variant: symmetric levels as above, then up to 5 greedy passes that move one element
// at a time to the level that improves the x^2-weighted fit. Returns the scale.
float SearchSymmetricScaleGreedy(int n, int nmax, const float* x, int8_t* levels);

// The candidate grids SearchScaleMin tries: iscale = (nmax + rmin + rdelta*k) / (max - min)
// for k = 0..nstep, after the plain (max - min) / nmax grid.
struct ScaleMinSearch {
  float rmin = 0.0f;
  float rdelta = 0.0f;
  int nstep = 0;         // 0: only the plain grid
  bool use_mad = false;  // error measure: |diff| when true, diff^2 when false
};

// Asymmetric levels in [0, nmax] with x[i] ≈ scale * L[i] - *neg_min. The min is clamped to
// at most 0, so *neg_min >= 0. For each candidate grid, solves the weighted least-squares
// scale and min for its levels and keeps the one of smallest weighted error. `weights` must
// not be null. Q2_K: (nmax 3, |x|, {-0.5, 0.1, 15, true}); Q4_K: (15, {-1, 0.1, 20, false});
// Q5_K: (31, {-0.5, 0.1, 15, false}). Returns the scale.
float SearchScaleMin(int n, int nmax, const float* x, const float* weights,
                     const ScaleMinSearch& search, uint8_t* levels, float* neg_min);

}  // namespace dsinfer::quant_ref

#endif  // DSINFER_QUANT_K_QUANT_SEARCH_H_
