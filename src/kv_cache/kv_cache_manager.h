// KvCacheManager: block tables per sequence over one BlockPool, with prefix caching.
//
// The scheduler's only view of KV memory. For each sequence it reserves token slots by whole
// blocks, hashes every block that becomes full (chained, scoped; block_hash.h), registers it
// in the prefix cache, and on Free() returns the blocks to the pool tail-first, so that under
// LRU eviction a sequence's last blocks go before its (more often shared) first ones. Freed
// full blocks stay findable until the pool reuses them.
//
// Admitting a sequence is two calls, with no other allocation between them:
//   CachedPrefix p = FindCachedPrefix(tokens, scope);      // pure lookup
//   AllocateSlots(id, scope, tokens, num_new_tokens, &p);  // reuse p, then reserve more
// Running out of blocks is an ordinary outcome: AllocateSlots returns false, changes nothing,
// and the scheduler preempts.
//
// Invariants (CheckInvariants verifies all of them in O(blocks + table entries)):
//   1. every block's ref_count equals the number of block tables holding it;
//   2. ref_count == 0 <=> the block is in the pool's free queue;
//   3. a table holds BlocksForTokens(num_tokens) blocks and one hash per full block;
//   4. the prefix cache maps each hash to at most one block and back.
//
// Thread safety: none; owned by the engine thread.
#ifndef DSINFER_KV_CACHE_KV_CACHE_MANAGER_H_
#define DSINFER_KV_CACHE_KV_CACHE_MANAGER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv_cache/block_hash.h"
#include "kv_cache/block_pool.h"
#include "kv_cache/block_table.h"
#include "kv_cache/prefix_cache.h"

namespace dsinfer {

using SequenceId = int64_t;

struct KvCacheOptions {
  int32_t num_blocks = 0;
  int32_t block_size = 16;  // tokens per block
  bool enable_prefix_caching = true;
  std::string hash_seed;  // mixed into every hash chain; e.g. random bytes per process
};

// The longest run of cached full blocks matching a prompt's prefix.
struct CachedPrefix {
  std::vector<BlockId> block_ids;
  std::vector<BlockHash> block_hashes;
  int32_t num_tokens = 0;          // block_ids.size() x block_size
  int32_t num_queried_blocks = 0;  // full blocks that were eligible for a hit
};

class KvCacheManager {
 public:
  static StatusOr<std::unique_ptr<KvCacheManager>> Create(const KvCacheOptions& options);

  int32_t block_size() const { return block_size_; }
  int32_t num_blocks() const { return pool_.num_blocks(); }
  int32_t num_free_blocks() const { return pool_.num_free(); }
  int32_t num_used_blocks() const { return pool_.num_used(); }
  const PrefixCacheStats& prefix_cache_stats() const { return prefix_cache_.stats(); }
  const BlockPool& pool() const { return pool_; }
  const PrefixCache& prefix_cache() const { return prefix_cache_; }

  // Cached full blocks matching the start of `tokens` in `scope`. Leaves at least the last
  // token uncached, because the step that computes it is the one that yields logits.
  CachedPrefix FindCachedPrefix(std::span<const int32_t> tokens, std::string_view scope);

  // Makes `id`'s table cover num_tokens + num_new_tokens positions (num_tokens is what it held
  // before; for a new sequence, the reused prefix). `tokens` holds at least the ids of all
  // those positions. `prefix` (new sequences only; from FindCachedPrefix just before) is
  // reused with its ref counts raised and counted in the hit statistics. Returns false, and
  // changes nothing, if the free blocks do not suffice.
  bool AllocateSlots(SequenceId id, std::string_view scope, std::span<const int32_t> tokens,
                     int32_t num_new_tokens, const CachedPrefix* prefix = nullptr);

  // Releases every block of `id` at once (finish, abort or preemption). No-op if unknown.
  void Free(SequenceId id);

  // The table of `id`, or nullptr.
  const BlockTable* table(SequenceId id) const;
  size_t num_tables() const { return tables_.size(); }

  // Verifies the invariants above; Internal error naming the first violation.
  Status CheckInvariants() const;

 private:
  explicit KvCacheManager(const KvCacheOptions& options);

  // Hashes and caches the table's blocks that are full but not yet hashed.
  void HashFullBlocks(BlockTable& table, std::span<const int32_t> tokens);

  const int32_t block_size_;
  const bool enable_prefix_caching_;
  BlockPool pool_;
  PrefixCache prefix_cache_;
  BlockHasher hasher_;
  std::unordered_map<SequenceId, BlockTable> tables_;
};

}  // namespace dsinfer

#endif  // DSINFER_KV_CACHE_KV_CACHE_MANAGER_H_
