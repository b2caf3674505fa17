// PrefixCache: which blocks hold the KV of which full-block hash, plus hit statistics.
//
// Maps BlockHash -> BlockId for every full block whose KV is still valid, used or free. The
// entry is dropped only when the pool hands the block out again (Evict), so the pool's free
// queue order is the eviction order. At most one block per hash: when two sequences compute the
// same block concurrently, the second copy is simply not cached and is recycled normally.
//
// Invariant: hash_of(b) == h  <=>  Find(h) == b.
//
// Thread safety: none; owned by the engine thread (through KvCacheManager).
#ifndef DSINFER_KV_CACHE_PREFIX_CACHE_H_
#define DSINFER_KV_CACHE_PREFIX_CACHE_H_

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "kv_cache/block_hash.h"
#include "kv_cache/block_pool.h"

namespace dsinfer {

// Counted in blocks, for the prefix-cache hit-rate metric.
struct PrefixCacheStats {
  int64_t queries = 0;  // full prompt blocks looked up by admitted sequences
  int64_t hits = 0;     // of those, blocks reused from the cache
};

class PrefixCache {
 public:
  explicit PrefixCache(int32_t num_blocks) : hash_of_(static_cast<size_t>(num_blocks)) {}

  std::optional<BlockId> Find(const BlockHash& hash) const;

  // Records that `block` holds the KV of `hash`. Returns false (and changes nothing) when the
  // hash is already cached in another block or `block` already has a hash.
  bool Insert(const BlockHash& hash, BlockId block);

  // Forgets `block`'s hash, if any: the pool is about to overwrite its KV.
  void Evict(BlockId block);

  const std::optional<BlockHash>& hash_of(BlockId block) const {
    return hash_of_[static_cast<size_t>(block)];
  }
  size_t size() const { return block_of_.size(); }

  void RecordQuery(int64_t queried_blocks, int64_t hit_blocks) {
    stats_.queries += queried_blocks;
    stats_.hits += hit_blocks;
  }
  const PrefixCacheStats& stats() const { return stats_; }

 private:
  std::unordered_map<BlockHash, BlockId, BlockHashHasher> block_of_;
  std::vector<std::optional<BlockHash>> hash_of_;  // indexed by block id
  PrefixCacheStats stats_;
};

}  // namespace dsinfer

#endif  // DSINFER_KV_CACHE_PREFIX_CACHE_H_
