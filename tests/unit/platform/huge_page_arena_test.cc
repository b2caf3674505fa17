// HugePageArena: buffers are aligned, zero, disjoint and inside the capacity, and taken() spans
// them all; running past the capacity is an error, not an overrun; moving hands the mapping
// over once.
#include "platform/huge_page_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace dsinfer {
namespace {

bool Aligned(const std::byte* p) {
  return reinterpret_cast<uintptr_t>(p) % HugePageArena::kAlignment == 0;
}

TEST(HugePageArena, HandsOutAlignedZeroedDisjointBuffers) {
  const std::vector<size_t> sizes = {1, 64, 100, size_t{3} << 20, 7};
  size_t capacity = 0;
  for (const size_t n : sizes) capacity += HugePageArena::Footprint(n);
  StatusOr<HugePageArena> arena = HugePageArena::Reserve(capacity);
  ASSERT_TRUE(arena.ok()) << arena.status().ToString();
  EXPECT_EQ(arena->capacity(), capacity);
  std::vector<std::span<std::byte>> taken;
  for (const size_t n : sizes) {
    StatusOr<std::span<std::byte>> buffer = arena->Take(n);
    ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
    ASSERT_EQ(buffer->size(), n);
    EXPECT_TRUE(Aligned(buffer->data()));
    EXPECT_TRUE(
        std::all_of(buffer->begin(), buffer->end(), [](std::byte b) { return b == std::byte{0}; }));
    std::fill(buffer->begin(), buffer->end(), std::byte{0xAB});  // writable, whole
    taken.push_back(*buffer);
  }
  EXPECT_EQ(arena->used(), capacity);
  EXPECT_EQ(arena->taken().data(), taken[0].data());
  EXPECT_EQ(arena->taken().size(), arena->used());
  for (size_t i = 1; i < taken.size(); ++i) {
    EXPECT_GE(taken[i].data(), taken[i - 1].data() + taken[i - 1].size()) << i;
  }
  // The first buffer starts on a huge page, where the kernel can back it with one.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(taken[0].data()) % (size_t{2} << 20), 0U);
}

TEST(HugePageArena, TakingPastTheCapacityIsAnError) {
  StatusOr<HugePageArena> arena = HugePageArena::Reserve(128);
  ASSERT_TRUE(arena.ok());
  ASSERT_TRUE(arena->Take(65).ok());  // rounds up to 128
  const StatusOr<std::span<std::byte>> more = arena->Take(1);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(more.status().message().find("0 left"), std::string::npos) << more.status().ToString();
  // A size whose round-up would wrap is refused too.
  EXPECT_FALSE(arena->Take(SIZE_MAX).ok());
}

TEST(HugePageArena, EmptyAndImpossibleReservations) {
  StatusOr<HugePageArena> empty = HugePageArena::Reserve(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->capacity(), 0U);
  EXPECT_FALSE(empty->Take(1).ok());
  EXPECT_TRUE(empty->taken().empty());
  EXPECT_FALSE(HugePageArena::Reserve(SIZE_MAX - 1).ok());
}

TEST(HugePageArena, MovingKeepsTheBuffersValid) {
  StatusOr<HugePageArena> arena = HugePageArena::Reserve(4096);
  ASSERT_TRUE(arena.ok());
  StatusOr<std::span<std::byte>> buffer = arena->Take(4096);
  ASSERT_TRUE(buffer.ok());
  (*buffer)[4095] = std::byte{7};
  HugePageArena moved = std::move(*arena);
  EXPECT_EQ(arena->capacity(), 0U);  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_EQ(moved.used(), 4096U);
  EXPECT_EQ((*buffer)[4095], std::byte{7});
  HugePageArena assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.capacity(), 4096U);
  EXPECT_EQ((*buffer)[4095], std::byte{7});
}

}  // namespace
}  // namespace dsinfer
