// The truncation logits processors and their building blocks: greedy argmax, top-k selection,
// temperature, top-p and min-p over candidates sorted most likely first.
//
// Order and ties: candidates are ranked by value descending, equal values by lower token id,
// so every result is a deterministic function of the values (no dependence on sort stability
// or on the batch). Top-k, top-p and min-p each keep a prefix of that ranking, so applying them
// in vLLM's / HF's order (top-k -> top-p -> min-p) keeps the shortest of three prefixes, with
// top-p measured on the distribution renormalised over the top-k survivors (HF semantics).
//
// Cost: ArgMax and SelectTop read the values in blocks of kScanBlock and skip a block with one
// vectorisable compare when nothing in it can enter, so top-k over a 129k vocabulary is close
// to one streaming read; SelectTop keeps at most 2k + kScanBlock indices and compacts them with
// nth_element. No allocation beyond the growth of the caller's vector.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_SAMPLING_LOGITS_PROCESSORS_H_
#define DSINFER_SAMPLING_LOGITS_PROCESSORS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace dsinfer::sampling {

inline constexpr size_t kScanBlock = 64;

// Index of the largest value (NaNs ignored), the lowest index among equals; -1 when no value is
// above -inf.
int32_t ArgMax(std::span<const float> values);

// Sets *out to the indices of the min(k, eligible) largest values that are >= floor (NaN never
// is), ranked as above. out's capacity is the working buffer and is kept between calls.
void SelectTop(std::span<const float> values, size_t k, float floor, std::vector<int32_t>* out);

// Temperature and softmax numerator: weights[j] = e^((logits[ids[j]] - logits[ids[0]]) / T)
// for candidates ranked most likely first (so weights[0] = 1), T > 0.
void TemperatureWeights(std::span<const float> logits, std::span<const int32_t> ids,
                        float temperature, std::span<float> weights);

// Top-p over ranked weights of a distribution whose weights sum to `total` (HF / vLLM: a token
// is kept iff the probability of the tokens ranked before it is < top_p, so the token that
// crosses top_p is kept, and at least one is). The number kept, or none when all of `weights`
// together stay below top_p (the answer lies beyond these candidates). top_p >= 1 keeps all.
std::optional<size_t> TopPKeep(std::span<const float> weights, double total, float top_p);

// Min-p over ranked weights: the number of leading weights >= min_p * weights[0] (HF removes
// probs < min_p * top_prob). At least one when weights is not empty.
size_t MinPKeep(std::span<const float> weights, float min_p);

// Inverse-CDF draw: the first j with u < weights[0] + ... + weights[j], for u in
// [0, sum of weights); if rounding puts u past the end, the last positive weight. -1 when no
// weight is positive.
int64_t DrawFromWeights(std::span<const float> weights, double u);

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_LOGITS_PROCESSORS_H_
