// BlockPool: reference-counted KV blocks and the free queue, bookkeeping only (no tensors).
//
// The pool hands out block ids in [0, num_blocks); the runner owns the storage those ids index.
// Every block is either used (ref_count > 0, held by one or more block tables) or free
// (ref_count == 0, in the free queue). A free block may still hold a prefix-cache entry: its KV
// stays valid until Allocate() hands the block out again, so the free queue doubles as the
// prefix cache's eviction order. Free() appends to the tail and Allocate() pops the head: the
// least recently released block is evicted first (LRU). AddRef() on a free block (a prefix-cache
// hit) unlinks it from the middle of the queue.
//
// Invariants (checked by KvCacheManager::CheckInvariants in tests):
//   1. ref_count(b) == 0  <=>  b is in the free queue, exactly once.
//   2. num_free() == length of the free queue; num_used() == num_blocks() - num_free().
// Every operation is O(1): the queue is an intrusive doubly linked list over block ids.
//
// Thread safety: none; owned by the engine thread.
#ifndef DSINFER_KV_CACHE_BLOCK_POOL_H_
#define DSINFER_KV_CACHE_BLOCK_POOL_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace dsinfer {

using BlockId = int32_t;

class BlockPool {
 public:
  // All blocks start free, queued in id order.
  explicit BlockPool(int32_t num_blocks);

  int32_t num_blocks() const { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t num_free() const { return num_free_; }
  int32_t num_used() const { return num_blocks() - num_free_; }

  // Takes the least recently freed block with ref_count 1, or nullopt if every block is used.
  // The caller must drop any prefix-cache entry the block still had (its KV is overwritten).
  std::optional<BlockId> Allocate();

  // One more holder of `block`; a free block (a prefix-cache hit) leaves the free queue.
  void AddRef(BlockId block);

  // Drops one reference; at zero the block joins the tail of the free queue (most recently
  // used, so evicted last). Returns true when the block became free.
  bool Free(BlockId block);

  int32_t ref_count(BlockId block) const { return ref_counts_[Index(block)]; }
  bool is_free(BlockId block) const { return ref_count(block) == 0; }

  // Free queue from head (next to be allocated) to tail. O(num_free); for tests and checks.
  std::vector<BlockId> FreeQueue() const;

 private:
  static constexpr BlockId kNone = -1;

  size_t Index(BlockId block) const;
  void PushBack(BlockId block);
  void Unlink(BlockId block);

  std::vector<int32_t> ref_counts_;
  std::vector<BlockId> prev_;  // free-queue links; kNone at the ends and for used blocks
  std::vector<BlockId> next_;
  BlockId head_ = kNone;
  BlockId tail_ = kNone;
  int32_t num_free_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_KV_CACHE_BLOCK_POOL_H_
