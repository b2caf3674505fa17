// KvCacheManager: block tables, prefix reuse and invariant checks over one BlockPool.
#include "kv_cache/kv_cache_manager.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "base/check.h"

namespace dsinfer {

StatusOr<std::unique_ptr<KvCacheManager>> KvCacheManager::Create(const KvCacheOptions& options) {
  if (options.num_blocks <= 0) {
    return InvalidArgumentError("kv cache: num_blocks must be positive, got " +
                                std::to_string(options.num_blocks));
  }
  if (options.block_size <= 0) {
    return InvalidArgumentError("kv cache: block_size must be positive, got " +
                                std::to_string(options.block_size));
  }
  return std::unique_ptr<KvCacheManager>(new KvCacheManager(options));
}

KvCacheManager::KvCacheManager(const KvCacheOptions& options)
    : block_size_(options.block_size),
      enable_prefix_caching_(options.enable_prefix_caching),
      pool_(options.num_blocks),
      prefix_cache_(options.num_blocks),
      hasher_(options.hash_seed) {}

CachedPrefix KvCacheManager::FindCachedPrefix(std::span<const int32_t> tokens,
                                              std::string_view scope) {
  CachedPrefix prefix;
  if (!enable_prefix_caching_ || tokens.empty()) return prefix;
  const auto block_size = static_cast<size_t>(block_size_);
  const size_t max_blocks = (tokens.size() - 1) / block_size;
  prefix.num_queried_blocks = static_cast<int32_t>(max_blocks);
  BlockHash parent = hasher_.root();
  for (size_t i = 0; i < max_blocks; ++i) {
    const BlockHash hash = hasher_.Hash(parent, tokens.subspan(i * block_size, block_size), scope);
    const std::optional<BlockId> block = prefix_cache_.Find(hash);
    if (!block.has_value()) break;
    prefix.block_ids.push_back(*block);
    prefix.block_hashes.push_back(hash);
    parent = hash;
  }
  prefix.num_tokens = static_cast<int32_t>(prefix.block_ids.size()) * block_size_;
  return prefix;
}

bool KvCacheManager::AllocateSlots(SequenceId id, std::string_view scope,
                                   std::span<const int32_t> tokens, int32_t num_new_tokens,
                                   const CachedPrefix* prefix) {
  DSI_CHECK(num_new_tokens >= 0);
  const auto it = tables_.find(id);
  const bool is_new = it == tables_.end();
  const bool reuses_prefix = is_new && prefix != nullptr;
  DSI_CHECK_MSG(is_new || prefix == nullptr, "prefix given for running sequence %lld",
                static_cast<long long>(id));

  int32_t held_tokens = 0;
  int32_t held_blocks = 0;
  int32_t revived_blocks = 0;  // cached blocks now free, which reuse takes out of the free queue
  if (reuses_prefix) {
    held_tokens = prefix->num_tokens;
    held_blocks = static_cast<int32_t>(prefix->block_ids.size());
    for (const BlockId block : prefix->block_ids) revived_blocks += pool_.is_free(block) ? 1 : 0;
  } else if (!is_new) {
    held_tokens = it->second.num_tokens;
    held_blocks = static_cast<int32_t>(it->second.block_ids.size());
  }
  const int32_t total_tokens = held_tokens + num_new_tokens;
  DSI_CHECK_MSG(tokens.size() >= static_cast<size_t>(total_tokens),
                "%zu token ids for %d positions", tokens.size(), total_tokens);
  const int32_t needed = BlocksForTokens(total_tokens, block_size_) - held_blocks;
  if (needed > pool_.num_free() - revived_blocks) return false;

  BlockTable& table = is_new ? tables_[id] : it->second;
  if (is_new) table.scope = std::string(scope);
  if (reuses_prefix) {
    for (size_t i = 0; i < prefix->block_ids.size(); ++i) {
      const BlockId block = prefix->block_ids[i];
      // The contract: nothing was allocated between FindCachedPrefix and this call.
      DSI_CHECK_MSG(prefix_cache_.hash_of(block) == prefix->block_hashes[i],
                    "cached prefix block %d was evicted before reuse", block);
      pool_.AddRef(block);
    }
    table.block_ids = prefix->block_ids;
    table.block_hashes = prefix->block_hashes;
    prefix_cache_.RecordQuery(prefix->num_queried_blocks,
                              static_cast<int64_t>(prefix->block_ids.size()));
  }
  for (int32_t i = 0; i < needed; ++i) {
    const std::optional<BlockId> block = pool_.Allocate();
    DSI_CHECK(block.has_value());
    prefix_cache_.Evict(*block);
    table.block_ids.push_back(*block);
  }
  table.num_tokens = total_tokens;
  if (enable_prefix_caching_) HashFullBlocks(table, tokens);
  return true;
}

void KvCacheManager::HashFullBlocks(BlockTable& table, std::span<const int32_t> tokens) {
  const auto block_size = static_cast<size_t>(block_size_);
  const auto num_full = static_cast<size_t>(table.num_tokens) / block_size;
  for (size_t i = table.block_hashes.size(); i < num_full; ++i) {
    const BlockHash& parent = i == 0 ? hasher_.root() : table.block_hashes[i - 1];
    const BlockHash hash =
        hasher_.Hash(parent, tokens.subspan(i * block_size, block_size), table.scope);
    table.block_hashes.push_back(hash);
    // False when another sequence computed the same block first: this copy stays uncached.
    prefix_cache_.Insert(hash, table.block_ids[i]);
  }
}

void KvCacheManager::Free(SequenceId id) {
  const auto it = tables_.find(id);
  if (it == tables_.end()) return;
  const std::vector<BlockId>& blocks = it->second.block_ids;
  // Tail first: the last blocks are the least likely to be shared, so they are evicted first.
  for (auto b = blocks.rbegin(); b != blocks.rend(); ++b) pool_.Free(*b);
  tables_.erase(it);
}

const BlockTable* KvCacheManager::table(SequenceId id) const {
  const auto it = tables_.find(id);
  return it == tables_.end() ? nullptr : &it->second;
}

Status KvCacheManager::CheckInvariants() const {
  const auto num_blocks = static_cast<size_t>(pool_.num_blocks());
  std::vector<int32_t> holders(num_blocks, 0);
  for (const auto& [id, table] : tables_) {
    if (static_cast<int32_t>(table.block_ids.size()) !=
        BlocksForTokens(table.num_tokens, block_size_)) {
      return InternalError("sequence " + std::to_string(id) + " has " +
                           std::to_string(table.block_ids.size()) + " blocks for " +
                           std::to_string(table.num_tokens) + " tokens");
    }
    const size_t full = enable_prefix_caching_ ? table.num_tokens / block_size_ : 0;
    if (table.block_hashes.size() != full) {
      return InternalError("sequence " + std::to_string(id) + " has " +
                           std::to_string(table.block_hashes.size()) + " hashes for " +
                           std::to_string(full) + " full blocks");
    }
    for (const BlockId block : table.block_ids) ++holders[static_cast<size_t>(block)];
  }
  std::vector<bool> queued(num_blocks, false);
  const std::vector<BlockId> free_queue = pool_.FreeQueue();
  for (const BlockId block : free_queue) {
    if (queued[static_cast<size_t>(block)]) {
      return InternalError("block " + std::to_string(block) + " queued twice");
    }
    queued[static_cast<size_t>(block)] = true;
  }
  if (static_cast<int32_t>(free_queue.size()) != pool_.num_free()) {
    return InternalError("free queue length differs from num_free");
  }
  size_t num_hashed = 0;
  for (size_t b = 0; b < num_blocks; ++b) {
    const auto block = static_cast<BlockId>(b);
    if (pool_.ref_count(block) != holders[b]) {
      return InternalError("block " + std::to_string(b) + " has ref count " +
                           std::to_string(pool_.ref_count(block)) + " but " +
                           std::to_string(holders[b]) + " holders");
    }
    if ((holders[b] == 0) != queued[b]) {
      return InternalError("block " + std::to_string(b) +
                           (queued[b] ? " is both used and free" : " is neither used nor free"));
    }
    const std::optional<BlockHash>& hash = prefix_cache_.hash_of(block);
    if (hash.has_value()) {
      ++num_hashed;
      if (prefix_cache_.Find(*hash) != block) {
        return InternalError("prefix cache maps block " + std::to_string(b) + "'s hash elsewhere");
      }
    }
  }
  if (num_hashed != prefix_cache_.size()) {
    return InternalError("prefix cache has entries for unknown blocks");
  }
  return Status::Ok();
}

}  // namespace dsinfer
