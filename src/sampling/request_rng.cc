// RequestRng: seeding.
#include "sampling/request_rng.h"

namespace dsinfer::sampling {
namespace {

uint64_t FreshSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

}  // namespace

RequestRng::RequestRng(std::optional<int64_t> seed)
    : seed_(seed.has_value() ? static_cast<uint64_t>(*seed) : FreshSeed()), engine_(seed_) {}

}  // namespace dsinfer::sampling
