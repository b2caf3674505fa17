// BlockPool: free queue as an intrusive doubly linked list over block ids.
#include "kv_cache/block_pool.h"

#include "base/check.h"

namespace dsinfer {

BlockPool::BlockPool(int32_t num_blocks)
    : ref_counts_(static_cast<size_t>(num_blocks), 0),
      prev_(static_cast<size_t>(num_blocks), kNone),
      next_(static_cast<size_t>(num_blocks), kNone) {
  DSI_CHECK(num_blocks > 0);
  for (BlockId b = 0; b < num_blocks; ++b) PushBack(b);
}

size_t BlockPool::Index(BlockId block) const {
  DSI_CHECK_MSG(block >= 0 && block < num_blocks(), "block id %d out of range", block);
  return static_cast<size_t>(block);
}

std::optional<BlockId> BlockPool::Allocate() {
  if (head_ == kNone) return std::nullopt;
  const BlockId block = head_;
  Unlink(block);
  ref_counts_[Index(block)] = 1;
  return block;
}

void BlockPool::AddRef(BlockId block) {
  int32_t& refs = ref_counts_[Index(block)];
  if (refs == 0) Unlink(block);
  ++refs;
}

bool BlockPool::Free(BlockId block) {
  int32_t& refs = ref_counts_[Index(block)];
  DSI_CHECK_MSG(refs > 0, "Free of free block %d", block);
  if (--refs > 0) return false;
  PushBack(block);
  return true;
}

std::vector<BlockId> BlockPool::FreeQueue() const {
  std::vector<BlockId> order;
  order.reserve(static_cast<size_t>(num_free_));
  for (BlockId b = head_; b != kNone; b = next_[Index(b)]) order.push_back(b);
  return order;
}

void BlockPool::PushBack(BlockId block) {
  const size_t i = Index(block);
  prev_[i] = tail_;
  next_[i] = kNone;
  if (tail_ == kNone) {
    head_ = block;
  } else {
    next_[Index(tail_)] = block;
  }
  tail_ = block;
  ++num_free_;
}

void BlockPool::Unlink(BlockId block) {
  const size_t i = Index(block);
  const BlockId prev = prev_[i];
  const BlockId next = next_[i];
  if (prev == kNone) {
    head_ = next;
  } else {
    next_[Index(prev)] = next;
  }
  if (next == kNone) {
    tail_ = prev;
  } else {
    prev_[Index(next)] = prev;
  }
  prev_[i] = kNone;
  next_[i] = kNone;
  --num_free_;
}

}  // namespace dsinfer
