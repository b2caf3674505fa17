#include "kv_cache/kv_cache_budget.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace dsinfer {
namespace {

TEST(KvCacheBudgetTest, MhaBytesPerToken) {
  // DeepSeek-LLM 7B: 30 layers, 32 KV heads of 128, F16 -> 30 * 2 * 32 * 128 * 2 bytes.
  const auto bytes = KvBytesPerTokenMha(30, 32, 128, 2);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 491520);
}

TEST(KvCacheBudgetTest, MlaBytesPerToken) {
  // DeepSeek-V3: 61 layers, latent 512 + rope 64, BF16.
  const auto bytes = KvBytesPerTokenMla(61, 512, 64, 2);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 61 * 576 * 2);
}

TEST(KvCacheBudgetTest, BlocksRoundDown) {
  const auto blocks = NumBlocksForBudget(/*budget_bytes=*/10 * 16 * 100 + 99,
                                         /*bytes_per_token=*/100, /*block_size=*/16);
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, 10);
}

TEST(KvCacheBudgetTest, BudgetBelowOneBlockIsExhausted) {
  const auto blocks = NumBlocksForBudget(1599, 100, 16);
  EXPECT_EQ(blocks.status().code(), StatusCode::kResourceExhausted);
}

TEST(KvCacheBudgetTest, BadArgumentsAndOverflowAreErrors) {
  EXPECT_EQ(NumBlocksForBudget(0, 100, 16).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NumBlocksForBudget(1000, -1, 16).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NumBlocksForBudget(1000, 100, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBytesPerTokenMha(0, 8, 128, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBytesPerTokenMha(int64_t{1} << 40, 1 << 20, 1 << 10, 2).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(KvBytesPerTokenMla(2, 0, 64, 2).status().code(), StatusCode::kInvalidArgument);
}

TEST(KvCacheBudgetTest, HugeBudgetIsCappedAtInt32) {
  const auto blocks = NumBlocksForBudget(std::numeric_limits<int64_t>::max(), 1, 1);
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, std::numeric_limits<int32_t>::max());
}

}  // namespace
}  // namespace dsinfer
