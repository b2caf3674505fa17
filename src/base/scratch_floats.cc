#include "base/scratch_floats.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dsinfer {
namespace {

class ScratchCache {
 public:
  // The smallest cached buffer of at least `bytes`, or a new one of `bytes`.
  AlignedBuffer Take(size_t bytes) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->size() >= bytes && (best == free_.end() || it->size() < best->size())) best = it;
    }
    if (best == free_.end()) return AlignedBuffer(bytes);
    AlignedBuffer buffer = std::move(*best);
    free_.erase(best);
    bytes_ -= buffer.size();
    return buffer;
  }

  void Give(AlignedBuffer buffer) {
    if (buffer.empty() || bytes_ + buffer.size() > limit_) return;  // freed here
    bytes_ += buffer.size();
    free_.push_back(std::move(buffer));
  }

  size_t bytes() const { return bytes_; }

  void SetLimit(size_t limit) {
    limit_ = limit;
    // The largest go first: they are the least likely to fit under the new limit together.
    std::sort(free_.begin(), free_.end(),
              [](const AlignedBuffer& a, const AlignedBuffer& b) { return a.size() < b.size(); });
    while (bytes_ > limit_) {
      bytes_ -= free_.back().size();
      free_.pop_back();
    }
  }

 private:
  std::vector<AlignedBuffer> free_;
  size_t bytes_ = 0;
  size_t limit_ = size_t{1} << 30;
};

ScratchCache& ThisThreadsCache() {
  thread_local ScratchCache cache;
  return cache;
}

}  // namespace

ScratchFloats::ScratchFloats(size_t n)
    : buffer_(n == 0 ? AlignedBuffer() : ThisThreadsCache().Take(n * sizeof(float))), size_(n) {}

ScratchFloats::~ScratchFloats() { ThisThreadsCache().Give(std::move(buffer_)); }

size_t ScratchCacheBytes() { return ThisThreadsCache().bytes(); }

void SetScratchCacheLimit(size_t bytes) { ThisThreadsCache().SetLimit(bytes); }

}  // namespace dsinfer
