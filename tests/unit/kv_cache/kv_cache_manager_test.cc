#include "kv_cache/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

namespace dsinfer {
namespace {

constexpr int32_t kBlockSize = 4;

std::unique_ptr<KvCacheManager> MakeManager(int32_t num_blocks, bool prefix_caching = true) {
  auto manager = KvCacheManager::Create({.num_blocks = num_blocks,
                                         .block_size = kBlockSize,
                                         .enable_prefix_caching = prefix_caching});
  EXPECT_TRUE(manager.ok()) << manager.status().ToString();
  return std::move(manager).value();
}

// `n` distinct token ids starting at `first`.
std::vector<int32_t> Tokens(int32_t n, int32_t first = 100) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  std::iota(tokens.begin(), tokens.end(), first);
  return tokens;
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Admits `id` the way the scheduler does: reuse the cached prefix, then compute the rest.
bool Admit(KvCacheManager& kv, SequenceId id, const std::vector<int32_t>& tokens,
           std::string_view scope = "") {
  const CachedPrefix prefix = kv.FindCachedPrefix(tokens, scope);
  return kv.AllocateSlots(id, scope, tokens,
                          static_cast<int32_t>(tokens.size()) - prefix.num_tokens, &prefix);
}

TEST(KvCacheManagerTest, CreateRejectsBadOptions) {
  EXPECT_EQ(KvCacheManager::Create({.num_blocks = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KvCacheManager::Create({.num_blocks = 4, .block_size = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KvCacheManagerTest, TablesGrowByWholeBlocksAndHashFullOnes) {
  auto kv = MakeManager(8);
  const std::vector<int32_t> tokens = Tokens(9);
  ASSERT_TRUE(kv->AllocateSlots(1, "", tokens, 5));
  EXPECT_EQ(kv->table(1)->block_ids.size(), 2u);
  EXPECT_EQ(kv->table(1)->block_hashes.size(), 1u);
  ASSERT_TRUE(kv->AllocateSlots(1, "", tokens, 3));  // 8 tokens: still 2 blocks, both full
  EXPECT_EQ(kv->table(1)->block_ids.size(), 2u);
  EXPECT_EQ(kv->table(1)->block_hashes.size(), 2u);
  ASSERT_TRUE(kv->AllocateSlots(1, "", tokens, 1));
  EXPECT_EQ(kv->table(1)->block_ids.size(), 3u);
  EXPECT_EQ(kv->table(1)->num_tokens, 9);
  EXPECT_EQ(kv->num_used_blocks(), 3);
  EXPECT_EQ(kv->prefix_cache().size(), 2u);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, FailedAllocationChangesNothing) {
  auto kv = MakeManager(3);
  const std::vector<int32_t> tokens = Tokens(16);
  EXPECT_FALSE(kv->AllocateSlots(1, "", tokens, 13));  // needs 4 blocks
  EXPECT_EQ(kv->table(1), nullptr);
  EXPECT_EQ(kv->num_used_blocks(), 0);
  ASSERT_TRUE(kv->AllocateSlots(1, "", tokens, 10));
  EXPECT_FALSE(kv->AllocateSlots(1, "", tokens, 3));  // 13 tokens need a 4th block
  EXPECT_EQ(kv->table(1)->num_tokens, 10);
  EXPECT_EQ(kv->table(1)->block_ids.size(), 3u);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, FreeReturnsEveryBlockAtOnce) {
  auto kv = MakeManager(8);
  ASSERT_TRUE(kv->AllocateSlots(1, "", Tokens(6), 6));
  const int32_t used_before = kv->num_used_blocks();
  ASSERT_TRUE(kv->AllocateSlots(2, "", Tokens(17, 900), 17));
  EXPECT_EQ(kv->num_used_blocks(), used_before + 5);
  kv->Free(2);
  EXPECT_EQ(kv->num_used_blocks(), used_before);
  EXPECT_EQ(kv->table(2), nullptr);
  kv->Free(2);  // unknown: no-op
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, IdenticalPrefixReusesFullBlocks) {
  auto kv = MakeManager(16);
  const std::vector<int32_t> a = Concat(Tokens(8), Tokens(2, 500));
  const std::vector<int32_t> b = Concat(Tokens(8), Tokens(7, 700));
  ASSERT_TRUE(Admit(*kv, 1, a));
  const CachedPrefix prefix = kv->FindCachedPrefix(b, "");
  EXPECT_EQ(prefix.num_tokens, 8);
  EXPECT_EQ(prefix.num_queried_blocks, 3);  // (15 - 1) / 4
  ASSERT_TRUE(kv->AllocateSlots(2, "", b, 7, &prefix));
  const BlockTable& ta = *kv->table(1);
  const BlockTable& tb = *kv->table(2);
  EXPECT_EQ(tb.block_ids[0], ta.block_ids[0]);
  EXPECT_EQ(tb.block_ids[1], ta.block_ids[1]);
  EXPECT_NE(tb.block_ids[2], ta.block_ids[2]);
  EXPECT_EQ(kv->pool().ref_count(ta.block_ids[0]), 2);
  EXPECT_EQ(kv->pool().ref_count(ta.block_ids[2]), 1);
  // First sequence: 2 queried, 0 hit; second: 3 queried, 2 hit.
  EXPECT_EQ(kv->prefix_cache_stats().queries, 5);
  EXPECT_EQ(kv->prefix_cache_stats().hits, 2);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, FreedBlocksStayCachedUntilReused) {
  auto kv = MakeManager(4);
  const std::vector<int32_t> prompt = Tokens(9);
  ASSERT_TRUE(Admit(*kv, 1, prompt));
  const std::vector<BlockId> blocks = kv->table(1)->block_ids;
  kv->Free(1);
  EXPECT_EQ(kv->num_used_blocks(), 0);
  const CachedPrefix prefix = kv->FindCachedPrefix(prompt, "");
  EXPECT_EQ(prefix.block_ids, (std::vector<BlockId>{blocks[0], blocks[1]}));
  ASSERT_TRUE(kv->AllocateSlots(2, "", prompt, 1, &prefix));
  EXPECT_EQ(kv->num_used_blocks(), 3);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, TheLastTokenIsAlwaysComputed) {
  auto kv = MakeManager(8);
  const std::vector<int32_t> prompt = Tokens(8);
  ASSERT_TRUE(Admit(*kv, 1, prompt));
  // Both blocks are cached, but the step that computes token 7 is the one that gives logits.
  EXPECT_EQ(kv->FindCachedPrefix(prompt, "").num_tokens, 4);
  EXPECT_EQ(kv->FindCachedPrefix(Tokens(1), "").num_tokens, 0);
}

TEST(KvCacheManagerTest, ScopesNeverShareBlocks) {
  auto kv = MakeManager(16);
  const std::vector<int32_t> prompt = Tokens(13);
  ASSERT_TRUE(Admit(*kv, 1, prompt, "tenant-a"));
  EXPECT_EQ(kv->FindCachedPrefix(prompt, "tenant-b").num_tokens, 0);
  EXPECT_EQ(kv->FindCachedPrefix(prompt, "").num_tokens, 0);
  EXPECT_EQ(kv->FindCachedPrefix(prompt, "tenant-a").num_tokens, 12);
  ASSERT_TRUE(Admit(*kv, 2, prompt, "tenant-b"));
  for (const BlockId block : kv->table(2)->block_ids) EXPECT_EQ(kv->pool().ref_count(block), 1);
  EXPECT_EQ(kv->num_used_blocks(), 8);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, EvictsLeastRecentlyFreedAndTailBlocksFirst) {
  auto kv = MakeManager(4);
  const std::vector<int32_t> a = Tokens(8, 100);
  const std::vector<int32_t> b = Tokens(8, 200);
  ASSERT_TRUE(Admit(*kv, 1, a));
  ASSERT_TRUE(Admit(*kv, 2, b));
  const std::vector<BlockId> a_blocks = kv->table(1)->block_ids;
  kv->Free(1);
  kv->Free(2);
  // A was released first, and each sequence releases its tail block first.
  EXPECT_EQ(kv->pool().FreeQueue().front(), a_blocks[1]);
  EXPECT_EQ(kv->pool().FreeQueue()[1], a_blocks[0]);
  // A new 4-token sequence takes one block: A's second block is evicted, its first survives.
  ASSERT_TRUE(Admit(*kv, 3, Tokens(4, 300)));
  EXPECT_EQ(kv->table(3)->block_ids[0], a_blocks[1]);
  const std::vector<int32_t> a_again = Concat(a, Tokens(1, 999));
  EXPECT_EQ(kv->FindCachedPrefix(a_again, "").num_tokens, 4);
  const std::vector<int32_t> b_again = Concat(b, Tokens(1, 999));
  EXPECT_EQ(kv->FindCachedPrefix(b_again, "").num_tokens, 8);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, RevivedCachedBlocksCountAgainstFreeBlocks) {
  auto kv = MakeManager(3);
  const std::vector<int32_t> base = Tokens(8);
  ASSERT_TRUE(Admit(*kv, 1, base));
  kv->Free(1);  // 3 free blocks, 2 of them cached
  // 8 cached + 5 new tokens: 2 reused blocks + 2 new > 3 blocks.
  const std::vector<int32_t> too_long = Concat(base, Tokens(5, 500));
  EXPECT_FALSE(Admit(*kv, 2, too_long));
  EXPECT_EQ(kv->num_free_blocks(), 3);
  EXPECT_EQ(kv->prefix_cache().size(), 2u);
  // 8 cached + 4 new tokens: 2 reused + 1 new fits.
  ASSERT_TRUE(Admit(*kv, 2, Concat(base, Tokens(4, 500))));
  EXPECT_EQ(kv->num_free_blocks(), 0);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, ConcurrentDuplicateBlocksAreCachedOnce) {
  auto kv = MakeManager(8);
  const std::vector<int32_t> prompt = Tokens(8);
  ASSERT_TRUE(kv->AllocateSlots(1, "", prompt, 8));
  ASSERT_TRUE(kv->AllocateSlots(2, "", prompt, 8));  // computed again, no lookup
  EXPECT_EQ(kv->prefix_cache().size(), 2u);
  EXPECT_FALSE(kv->prefix_cache().hash_of(kv->table(2)->block_ids[0]).has_value());
  kv->Free(1);
  kv->Free(2);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

TEST(KvCacheManagerTest, DisabledPrefixCachingNeverHits) {
  auto kv = MakeManager(8, /*prefix_caching=*/false);
  const std::vector<int32_t> prompt = Tokens(12);
  ASSERT_TRUE(Admit(*kv, 1, prompt));
  EXPECT_EQ(kv->FindCachedPrefix(prompt, "").num_tokens, 0);
  EXPECT_TRUE(kv->table(1)->block_hashes.empty());
  EXPECT_EQ(kv->prefix_cache().size(), 0u);
  EXPECT_TRUE(kv->CheckInvariants().ok());
}

}  // namespace
}  // namespace dsinfer
