#include "kv_cache/block_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace dsinfer {
namespace {

TEST(BlockPoolTest, StartsAllFreeInIdOrder) {
  const BlockPool pool(4);
  EXPECT_EQ(pool.num_blocks(), 4);
  EXPECT_EQ(pool.num_free(), 4);
  EXPECT_EQ(pool.num_used(), 0);
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{0, 1, 2, 3}));
}

TEST(BlockPoolTest, AllocateUntilExhaustedThenNullopt) {
  BlockPool pool(3);
  for (BlockId expected = 0; expected < 3; ++expected) {
    const auto block = pool.Allocate();
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(*block, expected);
    EXPECT_EQ(pool.ref_count(*block), 1);
  }
  EXPECT_EQ(pool.num_used(), 3);
  EXPECT_FALSE(pool.Allocate().has_value());
}

TEST(BlockPoolTest, RefCountsKeepSharedBlocksUsed) {
  BlockPool pool(2);
  const BlockId b = *pool.Allocate();
  pool.AddRef(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  EXPECT_FALSE(pool.Free(b));  // one holder left
  EXPECT_FALSE(pool.is_free(b));
  EXPECT_EQ(pool.num_used(), 1);
  EXPECT_TRUE(pool.Free(b));
  EXPECT_TRUE(pool.is_free(b));
  EXPECT_EQ(pool.num_used(), 0);
}

TEST(BlockPoolTest, FreedBlocksAreReusedLeastRecentlyFreedFirst) {
  BlockPool pool(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.Allocate().has_value());
  // Free in the order 2, 0, 3, 1: that is the order they come back.
  for (const BlockId b : {2, 0, 3, 1}) pool.Free(b);
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{2, 0, 3, 1}));
  EXPECT_EQ(*pool.Allocate(), 2);
  EXPECT_EQ(*pool.Allocate(), 0);
}

TEST(BlockPoolTest, AddRefOnFreeBlockTakesItOutOfTheMiddleOfTheQueue) {
  BlockPool pool(5);
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{0, 1, 2, 3, 4}));
  pool.AddRef(2);  // a prefix-cache hit on a free block
  EXPECT_EQ(pool.ref_count(2), 1);
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{0, 1, 3, 4}));
  pool.AddRef(0);  // head
  pool.AddRef(4);  // tail
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{1, 3}));
  EXPECT_EQ(pool.num_free(), 2);
  EXPECT_EQ(*pool.Allocate(), 1);
  EXPECT_EQ(*pool.Allocate(), 3);
  EXPECT_FALSE(pool.Allocate().has_value());
  pool.Free(4);
  EXPECT_EQ(pool.FreeQueue(), (std::vector<BlockId>{4}));
}

TEST(BlockPoolDeathTest, FreeOfFreeBlockIsABrokenInvariant) {
  BlockPool pool(2);
  EXPECT_DEATH(pool.Free(1), "Free of free block 1");
}

TEST(BlockPoolDeathTest, OutOfRangeIdIsABrokenInvariant) {
  BlockPool pool(2);
  EXPECT_DEATH(pool.AddRef(2), "out of range");
}

}  // namespace
}  // namespace dsinfer
