// PrefixCache: a two-way map between full-block hashes and the blocks holding them.
#include "kv_cache/prefix_cache.h"

#include "base/check.h"

namespace dsinfer {

std::optional<BlockId> PrefixCache::Find(const BlockHash& hash) const {
  const auto it = block_of_.find(hash);
  if (it == block_of_.end()) return std::nullopt;
  return it->second;
}

bool PrefixCache::Insert(const BlockHash& hash, BlockId block) {
  std::optional<BlockHash>& slot = hash_of_[static_cast<size_t>(block)];
  if (slot.has_value()) return false;
  if (!block_of_.emplace(hash, block).second) return false;
  slot = hash;
  return true;
}

void PrefixCache::Evict(BlockId block) {
  std::optional<BlockHash>& slot = hash_of_[static_cast<size_t>(block)];
  if (!slot.has_value()) return;
  const size_t erased = block_of_.erase(*slot);
  DSI_CHECK(erased == 1);
  slot.reset();
}

}  // namespace dsinfer
