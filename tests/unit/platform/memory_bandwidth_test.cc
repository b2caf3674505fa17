// The bandwidth probe: ReadEveryWord reads every whole word exactly once (the sum proves it,
// on and off the pool, with the widest loads and with 128-bit ones, for lengths around its
// 8-word lines and past its prefetch distance);
// MeasureReadBandwidth refuses buffers and pass counts it cannot measure with a message; a
// ProbeBuffer holds its size of non-zero bytes, moves, is timed one pass at a time, and says
// what it was for when the memory cannot be had; SpreadPieces samples a long range in even
// pieces within it, and a timed pass reads them.
#include "platform/memory_bandwidth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace dsinfer {
namespace {

// Words 1, 2, ..., n, then one word of ones whose first bytes the spans below may cover.
std::vector<uint64_t> CountingWords(size_t n) {
  std::vector<uint64_t> words(n + 1);
  for (size_t i = 0; i < n; ++i) words[i] = i + 1;
  words[n] = ~uint64_t{0};
  return words;
}

TEST(MemoryBandwidth, ReadEveryWordSumsEachWholeWordOnce) {
  ThreadPool pool(2);
  // Below one line, around the 8-word lines and the 1024-word prefetch distance, and over
  // several pool chunks.
  for (const size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{1023},
                         size_t{1025}, size_t{100003}}) {
    const std::vector<uint64_t> words = CountingWords(n);
    for (const size_t tail_bytes : {size_t{0}, size_t{5}}) {
      // A tail shorter than a word is not a word: the ones must not enter the sum.
      const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(words.data()),
                                             n * sizeof(uint64_t) + tail_bytes);
      const uint64_t expected = uint64_t{n} * (n + 1) / 2;
      for (const ProbeLoads loads : {ProbeLoads::kWidest, ProbeLoads::k128Bit}) {
        const char* what = loads == ProbeLoads::k128Bit ? "128-bit" : "widest";
        EXPECT_EQ(ReadEveryWord(bytes, nullptr, loads), expected)
            << n << " words, inline, " << what << " loads";
        EXPECT_EQ(ReadEveryWord(bytes, &pool, loads), expected)
            << n << " words, pool, " << what << " loads";
      }
    }
  }
}

TEST(MemoryBandwidth, MeasuresAPositiveRateOverItsOwnBuffer) {
  ThreadPool pool(2);
  const StatusOr<double> rate = MeasureReadBandwidth(size_t{4} << 20, &pool, {.passes = 2});
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_GT(*rate, 0.0);
}

TEST(MemoryBandwidth, ProbeBufferHoldsNonZeroBytesAndTimesOnePass) {
  ThreadPool pool(2);
  constexpr size_t kBytes = size_t{2} << 20;
  StatusOr<ProbeBuffer> made = ProbeBuffer::Create(kBytes);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const ProbeBuffer buffer = std::move(made).value();
  ASSERT_EQ(buffer.bytes().size(), kBytes);
  // Every word is the fill pattern, none the zero page's.
  constexpr uint64_t kWord = 0x5a5a5a5a5a5a5a5aULL;
  EXPECT_EQ(ReadEveryWord(buffer.bytes(), &pool), kWord * (kBytes / sizeof(uint64_t)));
  EXPECT_GT(TimedReadPass(buffer.bytes(), &pool), 0.0);
  EXPECT_GT(TimedReadPass(buffer.bytes(), nullptr), 0.0);

  const StatusOr<ProbeBuffer> small = ProbeBuffer::Create((size_t{1} << 20) - 1);
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.status().message(), testing::HasSubstr("under 1 MiB"));
  // More than any machine maps: an error that says what the memory was for.
  const StatusOr<ProbeBuffer> huge = ProbeBuffer::Create(SIZE_MAX - (size_t{1} << 20));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(huge.status().message(), testing::HasSubstr("bandwidth buffer"));
}

TEST(MemoryBandwidth, SpreadPiecesSampleEvenlyWithinTheRange) {
  const std::vector<std::byte> storage(1000, std::byte{1});
  const std::span<const std::byte> bytes(storage);
  // Short enough: the whole range, one piece.
  for (const size_t max : {size_t{1000}, size_t{5000}}) {
    const auto whole = SpreadPieces(bytes, max, 100);
    ASSERT_EQ(whole.size(), 1u);
    EXPECT_EQ(whole[0].data(), bytes.data());
    EXPECT_EQ(whole[0].size(), bytes.size());
  }
  // Longer: max / piece pieces of the piece's length, the first at the start, the last ending
  // within the range, the starts evenly apart.
  const auto pieces = SpreadPieces(bytes, 999, 100);
  ASSERT_EQ(pieces.size(), 9u);
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].size(), 100u);
    EXPECT_EQ(pieces[i].data() - bytes.data(), static_cast<std::ptrdiff_t>(112 * i)) << i;
  }
  EXPECT_LE(pieces.back().data() + pieces.back().size(), bytes.data() + bytes.size());
  // Less than one piece allowed: still one piece at the start; a piece longer than the range:
  // the range.
  const auto one = SpreadPieces(bytes, 50, 100);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].data(), bytes.data());
  EXPECT_EQ(one[0].size(), 100u);
  const auto all = SpreadPieces(bytes, 50, 2000);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].size(), bytes.size());

  ThreadPool pool(2);
  EXPECT_GT(TimedReadPass(std::span<const std::span<const std::byte>>(pieces), &pool), 0.0);
  EXPECT_GT(TimedReadPass(std::span<const std::span<const std::byte>>(pieces), nullptr), 0.0);
}

TEST(MemoryBandwidth, RefusesWhatItCannotMeasure) {
  const StatusOr<double> small = MeasureReadBandwidth(size_t{1} << 19, nullptr);
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.status().message(), testing::HasSubstr("under 1 MiB"));
  const StatusOr<double> no_passes = MeasureReadBandwidth(size_t{1} << 20, nullptr, {.passes = 0});
  ASSERT_FALSE(no_passes.ok());
  EXPECT_THAT(no_passes.status().message(), testing::HasSubstr("passes 0"));
}

}  // namespace
}  // namespace dsinfer
