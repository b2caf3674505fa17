// BlockTable: one sequence's KV blocks, in position order.
//
// Token position p lives in block_ids[p / block_size] at offset p % block_size. The table
// grows by whole blocks as slots are reserved; the token ids themselves stay with the caller
// (the scheduler's sequence), which passes them in whenever blocks may fill, so each full
// block's chained hash can be computed once and appended to block_hashes.
//
//   block_ids:    [ b7 ][ b2 ][ b9 ]        block_size = 4, num_tokens = 10
//   positions:     0-3   4-7   8-9 (2 of 4 slots used)
//   block_hashes: [ h0 ][ h1 ]              only full blocks have a hash
//
// Thread safety: a value; owned by KvCacheManager.
#ifndef DSINFER_KV_CACHE_BLOCK_TABLE_H_
#define DSINFER_KV_CACHE_BLOCK_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "kv_cache/block_hash.h"
#include "kv_cache/block_pool.h"

namespace dsinfer {

struct BlockTable {
  std::string scope;                    // prefix-cache scope: tenant id, or "" for shared
  std::vector<BlockId> block_ids;       // covers positions [0, num_tokens)
  std::vector<BlockHash> block_hashes;  // chained hashes of the first full blocks
  int32_t num_tokens = 0;               // token slots reserved (KV written or being written)
};

// Blocks needed to hold `num_tokens` positions.
constexpr int32_t BlocksForTokens(int32_t num_tokens, int32_t block_size) {
  return (num_tokens + block_size - 1) / block_size;
}

}  // namespace dsinfer

#endif  // DSINFER_KV_CACHE_BLOCK_TABLE_H_
