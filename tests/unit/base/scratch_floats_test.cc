// ScratchFloats: a freed buffer comes back to the next scratch that fits it (the smallest that
// fits when several do), live scratches never share memory, buffers are 64-byte aligned, and the
// thread's cache keeps no more than its limit. Each test runs on a thread of its own, so that
// it starts from an empty cache.
#include "base/scratch_floats.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <thread>

namespace dsinfer {
namespace {

void OnFreshThread(const std::function<void()>& body) { std::thread(body).join(); }

uintptr_t Address(const float* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(ScratchFloats, AFreedBufferIsTakenAgainWithWhatWasWrittenInIt) {
  OnFreshThread([] {
    const float* first = nullptr;
    {
      ScratchFloats a(1000);
      ASSERT_EQ(a.size(), 1000u);
      ASSERT_EQ(a.span().size(), 1000u);
      for (size_t i = 0; i < a.size(); ++i) a.span()[i] = static_cast<float>(i);
      first = a.data();
    }
    EXPECT_EQ(ScratchCacheBytes(), 1000 * sizeof(float));
    ScratchFloats b(900);  // fits in the freed one: no new allocation, and not zero-filled
    EXPECT_EQ(b.data(), first);
    EXPECT_EQ(b.span()[899], 899.0f);
    EXPECT_EQ(ScratchCacheBytes(), 0u);
  });
}

TEST(ScratchFloats, TheSmallestCachedBufferThatFitsIsTaken) {
  OnFreshThread([] {
    const float *small = nullptr, *large = nullptr;
    {
      ScratchFloats b(1000);
      ScratchFloats a(100000);
      large = a.data();
      small = b.data();
    }  // a goes first: the large buffer is cached ahead of the small one
    ScratchFloats c(800);
    EXPECT_EQ(c.data(), small);
    ScratchFloats d(2000);  // only the large one fits
    EXPECT_EQ(d.data(), large);
    ScratchFloats e(800);  // nothing cached: a new buffer
    EXPECT_NE(e.data(), small);
    EXPECT_NE(e.data(), large);
  });
}

TEST(ScratchFloats, LiveScratchesDoNotOverlapAndAreAligned) {
  OnFreshThread([] {
    ScratchFloats a(1000);
    ScratchFloats b(1000);
    ScratchFloats c(17);
    for (const float* p : {a.data(), b.data(), c.data()}) EXPECT_EQ(Address(p) % 64, 0u);
    EXPECT_TRUE(Address(a.data()) + 1000 * sizeof(float) <= Address(b.data()) ||
                Address(b.data()) + 1000 * sizeof(float) <= Address(a.data()));
    ScratchFloats empty(0);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_TRUE(empty.span().empty());
  });
}

TEST(ScratchFloats, TheCacheKeepsNoMoreThanItsLimit) {
  OnFreshThread([] {
    SetScratchCacheLimit(10000 * sizeof(float));
    {
      ScratchFloats a(6000);
      ScratchFloats b(3000);
      ScratchFloats c(2000);
    }  // c and b fit under the limit (in that order); a would exceed it and is freed
    EXPECT_EQ(ScratchCacheBytes(), 5000 * sizeof(float));
    { ScratchFloats big(20000); }  // over the limit on its own
    EXPECT_EQ(ScratchCacheBytes(), 5000 * sizeof(float));
    SetScratchCacheLimit(4000 * sizeof(float));  // the 3000 goes, the 2000 stays
    EXPECT_EQ(ScratchCacheBytes(), 2000 * sizeof(float));
    SetScratchCacheLimit(0);
    EXPECT_EQ(ScratchCacheBytes(), 0u);
  });
}

}  // namespace
}  // namespace dsinfer
