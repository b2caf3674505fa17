// Every RopeTable this CPU can run (scalar, avx2, avx512, ...) against the reference RoPE of
// reference/rope.h: the cos/sin tables against double libm, ApplyRope and ApplyRopeBatch on
// both pairings, head widths that leave every vector tail, positions up to V3's last one and
// beyond, attention factors 1 and YaRN's, with and without a thread pool.
//
// Tolerances. A table entry is cos(a) * f rounded to float once from a double result accurate
// to ~1e-16, so it is within 2^-24 * f of the exact value (one ulp of a value below f). A
// rotated value u c - w s then carries the entry errors (2^-24 f (|u| + |w|)), the rounded
// product and the FMA (2^-24 each of at most f (|u| + |w|)), against the reference's single
// rounding: within kRotateTol * f * (|u| + |w|), kRotateTol = 4 * 2^-24.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/reference/rope.h"
#include "kernels/rope.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {
namespace {

constexpr double kRotateTol = 4 * 0x1p-24;

// DeepSeek V3's YaRN table for 64 dims, or plain rope_theta frequencies for other widths.
std::vector<float> Frequencies(int dims) {
  RopeConfig config{.dims = dims, .theta = 10000.0};
  if (dims == 64) {
    config = RopeConfig{.dims = 64,
                        .theta = 10000.0,
                        .scaling = RopeScalingType::kYarn,
                        .factor = 40.0,
                        .original_max_position = 4096};
  }
  StatusOr<std::vector<float>> f = RopeInverseFrequencies(config);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : std::vector<float>();
}

// Rotary widths with every tail for 8- and 16-lane bodies (half and whole), and the real ones.
constexpr int kDims[] = {2, 6, 14, 30, 34, 64, 128};
constexpr int64_t kPositions[] = {0, 1, 7, 4095, 163839, int64_t{1} << 30};
constexpr double kFactors[] = {1.0, 1.368888};

// The two values of pair i under `pairing`, for a head of `dims` values.
std::pair<int, int> Pair(RopePairing pairing, int dims, int i) {
  return pairing == RopePairing::kInterleaved ? std::pair{2 * i, 2 * i + 1}
                                              : std::pair{i, i + dims / 2};
}

// Every pair of `got` against `want`, bounded relative to the pair's input magnitude.
void ExpectRotationNear(RopePairing pairing, const float* before, const float* got,
                        const float* want, int dims, double factor, const std::string& where) {
  for (int i = 0; i < dims / 2; ++i) {
    const auto [iu, iw] = Pair(pairing, dims, i);
    const double bound = kRotateTol * factor * (std::fabs(before[iu]) + std::fabs(before[iw]));
    ASSERT_NEAR(got[iu], want[iu], bound) << where << " pair " << i;
    ASSERT_NEAR(got[iw], want[iw], bound) << where << " pair " << i;
  }
}

class RopeSimdTest : public ::testing::TestWithParam<Isa> {
 protected:
  const RopeTable& table() const { return RopeKernelsFor(GetParam()); }
};

TEST_P(RopeSimdTest, CosSinTableWithinOneUlpOfTheExactValue) {
  for (const int dims : kDims) {
    const std::vector<float> f = Frequencies(dims);
    const auto half = static_cast<int64_t>(f.size());
    for (const int64_t p : kPositions) {
      for (const double factor : kFactors) {
        std::vector<float> c(f.size()), s(f.size());
        table().cos_sin(f.data(), half, p, factor, c.data(), s.data());
        for (size_t i = 0; i < f.size(); ++i) {
          const double angle = static_cast<double>(p) * static_cast<double>(f[i]);
          ASSERT_NEAR(c[i], std::cos(angle) * factor, 0x1p-24 * factor) << dims << " " << p;
          ASSERT_NEAR(s[i], std::sin(angle) * factor, 0x1p-24 * factor) << dims << " " << p;
        }
      }
    }
  }
}

TEST_P(RopeSimdTest, ApplyRopeMatchesTheReference) {
  for (const RopePairing pairing : {RopePairing::kInterleaved, RopePairing::kHalfSplit}) {
    for (const int dims : kDims) {
      const std::vector<float> f = Frequencies(dims);
      for (const int64_t p : kPositions) {
        for (const double factor : kFactors) {
          const std::vector<float> before = RandomFloats(static_cast<size_t>(dims), 1);
          std::vector<float> want = before, got = before;
          dsinfer::ApplyRope(pairing, f, p, want.data(), dims, factor);
          ApplyRope(pairing, f, p, got.data(), dims, factor, table());
          ExpectRotationNear(pairing, before.data(), got.data(), want.data(), dims, factor,
                             "dims " + std::to_string(dims) + " p " + std::to_string(p));
        }
      }
    }
  }
}

TEST_P(RopeSimdTest, PositionZeroIsTheIdentity) {
  for (const RopePairing pairing : {RopePairing::kInterleaved, RopePairing::kHalfSplit}) {
    const std::vector<float> f = Frequencies(64);
    const std::vector<float> before = RandomFloats(64, 2);
    std::vector<float> x = before;
    ApplyRope(pairing, f, 0, x.data(), 64, 1.0, table());
    EXPECT_EQ(x, before);
  }
}

// §3.5, as the reference test: half-split on the de-interleaved head is the de-interleaved
// interleaved result, bit for bit, on this level too.
TEST_P(RopeSimdTest, InterleavedEqualsHalfSplitUnderDeinterleave) {
  const auto deinterleave = [](const std::vector<float>& x) {
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size() / 2; ++i) {
      y[i] = x[2 * i];
      y[i + x.size() / 2] = x[2 * i + 1];
    }
    return y;
  };
  for (const int dims : kDims) {
    const std::vector<float> f = Frequencies(dims);
    for (const int64_t p : kPositions) {
      std::vector<float> a = RandomFloats(static_cast<size_t>(dims), 3);
      std::vector<float> b = deinterleave(a);
      ApplyRope(RopePairing::kInterleaved, f, p, a.data(), dims, 1.0, table());
      ApplyRope(RopePairing::kHalfSplit, f, p, b.data(), dims, 1.0, table());
      EXPECT_EQ(deinterleave(a), b) << "dims " << dims << " p " << p;
    }
  }
}

// MLA q (rope on the last 64 of 192, 5 heads), k_pe (1 head of 64) and a NeoX whole head; the
// values outside the rotary range stay untouched; a pool gives the same bits.
TEST_P(RopeSimdTest, ApplyRopeBatchMatchesTheReference) {
  struct Case {
    RopeBatchLayout layout;
    RopePairing pairing;
    int dims;
  };
  const Case cases[] = {
      {{.n_heads = 5, .head_dim = 192, .rope_offset = 128}, RopePairing::kInterleaved, 64},
      {{.n_heads = 1, .head_dim = 64, .rope_offset = 0}, RopePairing::kInterleaved, 64},
      {{.n_heads = 3, .head_dim = 128, .rope_offset = 0}, RopePairing::kHalfSplit, 128},
      {{.n_heads = 2, .head_dim = 40, .rope_offset = 3}, RopePairing::kHalfSplit, 34},
  };
  const std::vector<int64_t> positions = {0, 1, 1, 2, 4095, 163839, 77};
  ThreadPool pool(2);
  for (const Case& c : cases) {
    const std::vector<float> f = Frequencies(c.dims);
    const size_t size = positions.size() * static_cast<size_t>(c.layout.n_heads) *
                        static_cast<size_t>(c.layout.head_dim);
    for (const double factor : kFactors) {
      const std::vector<float> before = RandomFloats(size, 4);
      std::vector<float> want = before, got = before, pooled = before;
      dsinfer::ApplyRopeBatch(c.pairing, f, positions, c.layout, want, factor);
      ApplyRopeBatch(c.pairing, f, positions, c.layout, got, factor, nullptr, table());
      ApplyRopeBatch(c.pairing, f, positions, c.layout, pooled, factor, &pool, table());
      EXPECT_EQ(pooled, got);
      for (size_t head = 0; head < size / static_cast<size_t>(c.layout.head_dim); ++head) {
        const size_t at = head * static_cast<size_t>(c.layout.head_dim);
        for (int64_t j = 0; j < c.layout.head_dim; ++j) {
          const bool rotated = j >= c.layout.rope_offset && j < c.layout.rope_offset + c.dims;
          if (!rotated) {
            ASSERT_EQ(got[at + j], before[at + j]) << head << " " << j;
          }
        }
        const size_t rope_at = at + static_cast<size_t>(c.layout.rope_offset);
        ExpectRotationNear(
            c.pairing, before.data() + rope_at, got.data() + rope_at, want.data() + rope_at, c.dims,
            factor,
            "head_dim " + std::to_string(c.layout.head_dim) + " row " + std::to_string(head));
      }
    }
  }
}

// A layer's queries and keys in one call, with and without a pool: each target as
// ApplyRopeBatch alone would leave it, bit for bit (MLA's q and k_pe, and GQA's q and k).
TEST_P(RopeSimdTest, ApplyRopeBatchesRotatesEachTargetAsItsOwnCall) {
  const std::vector<int64_t> positions = {0, 7, 8, 4095, 31};
  const auto n = positions.size();
  ThreadPool pool(2);
  struct Pair {
    RopeBatchLayout first, second;
    RopePairing pairing;
    int dims;
  };
  const Pair pairs[] = {
      {{.n_heads = 5, .head_dim = 192, .rope_offset = 128},
       {.n_heads = 1, .head_dim = 576, .rope_offset = 512},
       RopePairing::kInterleaved,
       64},
      {{.n_heads = 12, .head_dim = 128, .rope_offset = 0},
       {.n_heads = 2, .head_dim = 128, .rope_offset = 0},
       RopePairing::kHalfSplit,
       128},
  };
  for (const Pair& c : pairs) {
    const std::vector<float> f = Frequencies(c.dims);
    const auto size_of = [&](const RopeBatchLayout& l) {
      return n * static_cast<size_t>(l.n_heads * l.head_dim);
    };
    const std::vector<float> a0 = RandomFloats(size_of(c.first), 5);
    const std::vector<float> b0 = RandomFloats(size_of(c.second), 6);
    std::vector<float> want_a = a0, want_b = b0;
    ApplyRopeBatch(c.pairing, f, positions, c.first, want_a, 1.5, nullptr, table());
    ApplyRopeBatch(c.pairing, f, positions, c.second, want_b, 1.5, nullptr, table());
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> a = a0, b = b0;
      const RopeBatchTarget targets[] = {{.layout = c.first, .x = a}, {.layout = c.second, .x = b}};
      ApplyRopeBatches(c.pairing, f, positions, targets, 1.5, p, table());
      EXPECT_EQ(a, want_a) << (p != nullptr ? "pool" : "inline");
      EXPECT_EQ(b, want_b) << (p != nullptr ? "pool" : "inline");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, RopeSimdTest, ::testing::ValuesIn(MachineLevels()),
                         LevelName);

// The avx512 bodies do avx2's operations in the same order: the same tables and rotations.
TEST(RopeAvx512Level, TablesAreAvx2sBitForBit) {
  if (BestIsa(GetCpuFeatures()) < Isa::kAvx512) GTEST_SKIP() << "no avx512 on this CPU";
  const std::vector<float> f = Frequencies(128);
  for (int64_t p = 0; p < 200000; p += 997) {
    std::vector<float> c2(64), s2(64), c512(64), s512(64);
    RopeKernelsFor(Isa::kAvx2).cos_sin(f.data(), 64, p, 1.3, c2.data(), s2.data());
    RopeKernelsFor(Isa::kAvx512).cos_sin(f.data(), 64, p, 1.3, c512.data(), s512.data());
    ASSERT_EQ(c2, c512) << p;
    ASSERT_EQ(s2, s512) << p;
  }
}

TEST(RopeSimdDeathTest, MismatchedSizesAreTheReferenceChecks) {
  const std::vector<float> f = Frequencies(64);
  std::vector<float> x(64);
  EXPECT_DEATH(kernels::ApplyRope(RopePairing::kInterleaved, f, 1, x.data(), 62),
               "ApplyRope: dims 62");
  const std::vector<int64_t> positions = {1, 2};
  EXPECT_DEATH(kernels::ApplyRopeBatch(RopePairing::kInterleaved, f, positions,
                                       {.n_heads = 1, .head_dim = 64, .rope_offset = 0}, x),
               "x has 64 values, expected 2 tokens x 64");
  EXPECT_DEATH(kernels::ApplyRopeBatch(RopePairing::kInterleaved, f, positions,
                                       {.n_heads = 1, .head_dim = 32, .rope_offset = 0}, x),
               "outside head_dim 32");
}

}  // namespace
}  // namespace dsinfer::kernels
