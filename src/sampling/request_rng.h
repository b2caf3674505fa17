// RequestRng: the random stream of one request. Each request owns its generator, so a seeded
// request draws the same numbers whatever else shares its batch, and the sampler draws exactly
// one number per non-greedy token (none for greedy ones), so the stream position equals the
// number of tokens sampled.
//
// Numerics: std::mt19937_64 (its output is fixed by the C++ standard, so seeds reproduce across
// compilers and platforms); NextUniform() uses the top 53 bits of one output, exactly uniform on
// the doubles k / 2^53 in [0, 1) (std::uniform_real_distribution is implementation-defined).
//
// Thread safety: one per request, used by one thread at a time.
#ifndef DSINFER_SAMPLING_REQUEST_RNG_H_
#define DSINFER_SAMPLING_REQUEST_RNG_H_

#include <cstdint>
#include <optional>
#include <random>

namespace dsinfer::sampling {

class RequestRng {
 public:
  // `seed` as the request gave it (OpenAI's integer, negative ones included); none draws a
  // fresh seed from std::random_device.
  explicit RequestRng(std::optional<int64_t> seed);

  double NextUniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  std::mt19937_64 engine_;
};

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_REQUEST_RNG_H_
