// KeepFreedBuffersMapped against the pattern of a forward pass: several large buffers live at
// once, freed, and allocated again for the next layer. Without it glibc returns them to the
// kernel (mmap, or trimming the heap top) and each round faults every page in again: ~6100
// minor faults a round for the three 8 MiB buffers below, measured.
#include "platform/malloc_tuning.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <vector>

namespace dsinfer {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kOwnAllocator = true;  // the sanitizer's allocator replaces glibc's
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kOwnAllocator = true;
#else
constexpr bool kOwnAllocator = false;
#endif
#else
constexpr bool kOwnAllocator = false;
#endif

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One layer's worth: three 8 MiB buffers written while all are live, then freed.
void OneLayer() {
  std::vector<std::vector<char>> buffers;
  for (int i = 0; i < 3; ++i) {
    buffers.emplace_back(8 << 20, char{1});
    asm volatile("" : : "r"(buffers.back().data()) : "memory");  // keep the writes
  }
}

TEST(MallocTuningTest, LargeFreedBuffersAreReusedWithoutFaultingAgain) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "not glibc";
#endif
  if (kOwnAllocator) GTEST_SKIP() << "the sanitizer's allocator is not glibc's";
  ASSERT_TRUE(KeepFreedBuffersMapped());
  OneLayer();  // the heap grows to hold the buffers once
  OneLayer();
  const long before = MinorFaults();
  OneLayer();
  // 24 MiB is 6144 pages of 4 KiB; the few faults allowed are the test's own bookkeeping.
  EXPECT_LT(MinorFaults() - before, 64);
}

}  // namespace
}  // namespace dsinfer
