// The read-only lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M): their grids
// are ggml's, their dots agree with their dequantised floats, and random-code blocks are valid and
// scaled as asked. Bit exactness against ggml's own dequantiser and dot is in ggml_vectors_test.cc.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/random_blocks.h"
#include "quant_test_util.h"

namespace dsinfer::quant_test {
namespace {

// FNV-1a over the little-endian bytes of a grid.
template <typename Entry, size_t N>
uint64_t Checksum(const std::array<Entry, N>& grid) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (Entry entry : grid) {
    for (size_t b = 0; b < sizeof(Entry); ++b) {
      h = (h ^ ((entry >> (8 * b)) & 0xFF)) * 0x100000001B3ULL;
    }
  }
  return h;
}

template <typename Entry, size_t N>
std::set<uint8_t> LevelSet(const std::array<Entry, N>& grid) {
  std::set<uint8_t> levels;
  for (Entry entry : grid) {
    for (size_t b = 0; b < sizeof(Entry); ++b) {
      levels.insert(static_cast<uint8_t>(entry >> (8 * b)));
    }
  }
  return levels;
}

template <typename Entry, size_t N>
size_t DistinctEntries(const std::array<Entry, N>& grid) {
  return std::set<Entry>(grid.begin(), grid.end()).size();
}

TEST(IqGridsTest, GridsAreGgmlsTables) {
  // Checksums computed by a separate script from ggml-common.h (llama.cpp v0.5.0).
  EXPECT_EQ(Checksum(Iq2xxsGrid()), 0xBB4EE025B5AC6E8EULL);
  EXPECT_EQ(Checksum(Iq1sGrid()), 0x6703ED863501AE2EULL);
  EXPECT_EQ(LevelSet(Iq2xxsGrid()), (std::set<uint8_t>{8, 25, 43}));
  EXPECT_EQ(LevelSet(Iq1sGrid()), (std::set<uint8_t>{0x00, 0x01, 0xFF}));
  EXPECT_EQ(DistinctEntries(Iq2xxsGrid()), 256U);
  EXPECT_EQ(DistinctEntries(Iq1sGrid()), 2048U);
}

TEST(IqGridsTest, SignedGridsAreGgmlsTables) {
  // As above: FNV-1a of ggml-common.h's iq2xs_grid, iq2s_grid, iq3xxs_grid and iq3s_grid.
  EXPECT_EQ(Checksum(Iq2xsGrid()), 0xC9B1EE61E79909BDULL);
  EXPECT_EQ(Checksum(Iq2sGrid()), 0x123EDD38A3B62B90ULL);
  EXPECT_EQ(Checksum(Iq3xxsGrid()), 0xDFA5DC83D6A155D5ULL);
  EXPECT_EQ(Checksum(Iq3sGrid()), 0xFA37020C25B44829ULL);
  EXPECT_EQ(LevelSet(Iq2xsGrid()), (std::set<uint8_t>{8, 25, 43}));
  EXPECT_EQ(LevelSet(Iq2sGrid()), (std::set<uint8_t>{8, 25, 43}));
  EXPECT_EQ(LevelSet(Iq3xxsGrid()), (std::set<uint8_t>{4, 12, 20, 28, 36, 44, 52, 62}));
  EXPECT_EQ(LevelSet(Iq3sGrid()), (std::set<uint8_t>{1, 3, 5, 7, 9, 11, 13, 15}));
  EXPECT_EQ(DistinctEntries(Iq2xsGrid()), 512U);
  EXPECT_EQ(DistinctEntries(Iq2sGrid()), 1024U);
  EXPECT_EQ(DistinctEntries(Iq3xxsGrid()), 256U);
  EXPECT_EQ(DistinctEntries(Iq3sGrid()), 512U);
}

TEST(IqGridsTest, SignsCompleteToEvenParity) {
  // A few of ggml's ksigns_iq2xs entries, then the rule for all 128.
  EXPECT_EQ(Iq2Signs(0), 0);
  EXPECT_EQ(Iq2Signs(1), 129);
  EXPECT_EQ(Iq2Signs(3), 3);
  EXPECT_EQ(Iq2Signs(100), 228);
  EXPECT_EQ(Iq2Signs(127), 255);
  for (uint32_t s = 0; s < 128; ++s) {
    EXPECT_EQ(Iq2Signs(s) & 127U, s);
    EXPECT_EQ(std::popcount(Iq2Signs(s)) % 2, 0) << s;
    EXPECT_EQ(Iq2Signs(s | 0xFFFFFF80U), Iq2Signs(s)) << "only the low 7 bits count";
  }
}

struct ReadOnlyCase {
  DType dtype;
};

class ReadOnlyTypeTest : public ::testing::TestWithParam<ReadOnlyCase> {
 protected:
  DType dtype() const { return GetParam().dtype; }
};

TEST_P(ReadOnlyTypeTest, RandomBlocksHaveTheRequestedRms) {
  constexpr int64_t kN = int64_t{64} * kQK_K;
  std::vector<std::byte> q(static_cast<size_t>(*RowBytes(dtype(), kN)));
  ASSERT_TRUE(FillRandomBlocks(dtype(), 7, 0.02F, q).ok());
  const std::vector<float> y = Dequantize(dtype(), q, kN);
  ASSERT_TRUE(AllFinite(y));
  for (int64_t b = 0; b < kN / kQK_K; ++b) {
    double sum_sq = 0;
    for (int64_t i = 0; i < kQK_K; ++i)
      sum_sq += std::pow(y[static_cast<size_t>(b * kQK_K + i)], 2);
    // The scale is rounded to f16 (11 significant bits).
    EXPECT_NEAR(std::sqrt(sum_sq / kQK_K), 0.02, 0.02 * 1e-3) << "block " << b;
  }
  std::vector<std::byte> again(q.size());
  ASSERT_TRUE(FillRandomBlocks(dtype(), 7, 0.02F, again).ok());
  EXPECT_EQ(q, again);
  ASSERT_TRUE(FillRandomBlocks(dtype(), 8, 0.02F, again).ok());
  EXPECT_NE(q, again);
  EXPECT_FALSE(FillRandomBlocks(dtype(), 7, 0.02F, std::span(q).first(q.size() - 1)).ok());
}

TEST_P(ReadOnlyTypeTest, DotMatchesItsDequantisedFloats) {
  // Integer sums per sub-block are exact, so only the float steps (a few per 256) differ from
  // the double dot of the dequantised rows.
  const QuantOps* ops = FindQuantOps(dtype());
  constexpr int64_t kN = int64_t{16} * kQK_K;
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    std::vector<std::byte> w(static_cast<size_t>(*RowBytes(dtype(), kN)));
    ASSERT_TRUE(FillRandomBlocks(dtype(), seed, 1.0F, w).ok());
    const std::vector<float> x = RandomRow(kN, seed + 100);
    const std::vector<std::byte> qx = Quantize(ops->vec_dot_type, x);
    const float got = ops->vec_dot(kN, w.data(), qx.data());
    const FloatDotResult want =
        FloatDot(Dequantize(dtype(), w, kN), Dequantize(ops->vec_dot_type, qx, kN));
    EXPECT_NEAR(got, want.value, 1e-5 * want.magnitude) << "seed " << seed;
  }
}

TEST_P(ReadOnlyTypeTest, CannotBeWritten) {
  const std::vector<float> x = RandomRow(kQK_K, 1);
  std::vector<std::byte> q(static_cast<size_t>(*RowBytes(dtype(), kQK_K)));
  const Status s = QuantizeRows(dtype(), x, kQK_K, q);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("use llama-quantize"), std::string::npos) << s.message();
  // llama-quantize needs an importance matrix for every one of these types but IQ3_S.
  EXPECT_EQ(s.message().find("importance matrix") != std::string::npos, dtype() != DType::kIQ3_S)
      << s.message();
}

INSTANTIATE_TEST_SUITE_P(Types, ReadOnlyTypeTest,
                         ::testing::Values(ReadOnlyCase{DType::kIQ2_XXS},
                                           ReadOnlyCase{DType::kIQ2_XS},
                                           ReadOnlyCase{DType::kIQ2_S},
                                           ReadOnlyCase{DType::kIQ3_XXS},
                                           ReadOnlyCase{DType::kIQ3_S}, ReadOnlyCase{DType::kIQ1_S},
                                           ReadOnlyCase{DType::kIQ1_M}),
                         DTypeParamName());

// IQ1_M keeps d in the top nibbles of its scales: a block built by hand decodes as the formula.
TEST(Iq1mTest, HandBuiltBlockDecodes) {
  BlockIQ1_M b{};
  const uint16_t d = Fp32ToFp16(0.5F);
  uint16_t words[4];
  for (int k = 0; k < 4; ++k) words[k] = static_cast<uint16_t>(((d >> (4 * k)) & 0xF) << 12);
  words[0] |= 2 | (5 << 3);  // the first 16 elements' scale 2 -> 5, the next 16's 5 -> 11
  std::memcpy(b.scales, words, sizeof(words));
  // Even groups take the low nibble of their qh byte (3 index bits, then the delta's sign),
  // odd groups the high one.
  b.qh[0] = 0x08 | 0x50;  // group 0: entry 0, delta -1; group 1: entry 0x500, delta +1
  b.qh[1] = 0x03 | 0x80;  // group 2: entry 0x300, delta +1; group 3: entry 0, delta -1
  std::vector<float> y(kQK_K);
  std::vector<std::byte> bytes(sizeof(b));
  std::memcpy(bytes.data(), &b, sizeof(b));
  ASSERT_TRUE(DequantizeRows(DType::kIQ1_M, bytes, kQK_K, y).ok());
  EXPECT_FLOAT_EQ(y[0], 0.5F * 5 * (-1 - 0.125F));
  const auto level = [](uint64_t entry, int j) { return static_cast<int8_t>(entry >> (8 * j)); };
  EXPECT_FLOAT_EQ(y[8], 0.5F * 5 * (level(Iq1sGrid()[0x500], 0) + 0.125F));
  EXPECT_FLOAT_EQ(y[16 + 3], 0.5F * 11 * (level(Iq1sGrid()[0x300], 3) + 0.125F));
  EXPECT_FLOAT_EQ(y[24 + 1], 0.5F * 11 * (level(Iq1sGrid()[0], 1) - 0.125F));
}

}  // namespace
}  // namespace dsinfer::quant_test
