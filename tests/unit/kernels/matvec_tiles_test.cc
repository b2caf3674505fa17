// The avx512 level's sets of tiles for memory-bound products (x86/avx512/packed_x8.h,
// MatvecTiles): whichever this CPU runs, the others must give the same bits, so all are run here
// on every machine with the level, in matvecs and in gemms of a few tokens. The
// packed_matrix_test compares the set in use with the reference MatMul; the spread pairs and the
// wide tiles each take the group tile's integer block sums and float tail, so the comparison is
// bit equality.
#include <gtest/gtest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/packed_matrix.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "tensor/dtype.h"

#if defined(__x86_64__)
#include "kernels/x86/avx512/packed_x8.h"

namespace dsinfer::kernels {
namespace {

bool MachineHasAvx512Level() {
  return static_cast<int>(BestIsa(GetCpuFeatures())) >= static_cast<int>(Isa::kAvx512);
}

// The avx512 table with `dtype`'s packed matvec and gemm from the `tiles` set.
KernelTable Avx512TableWith(DType dtype, avx512::MatvecTiles tiles) {
  KernelTable t = KernelsFor(Isa::kAvx512);
  const PackedBodies bodies = avx512::PackedBodiesFor(dtype, tiles);
  t.packed_matvec[static_cast<size_t>(dtype)] = bodies.matvec;
  t.packed_gemm[static_cast<size_t>(dtype)] = bodies.gemm;
  return t;
}

TEST(MatvecTiles, EverySetGivesTheSameBits) {
  if (!MachineHasAvx512Level()) GTEST_SKIP() << "this CPU has no avx512 level";
  ThreadPool pool(2);
  uint32_t seed = 900;
  for (const DType dtype : {DType::kQ4_0, DType::kQ5_0, DType::kQ4_1, DType::kQ5_1, DType::kIQ4_NL,
                            DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const KernelTable wide = Avx512TableWith(dtype, avx512::MatvecTiles::k512Bit);
    const KernelTable others[] = {Avx512TableWith(dtype, avx512::MatvecTiles::k256Bit),
                                  Avx512TableWith(dtype, avx512::MatvecTiles::kWideOnLongRows)};
    const int64_t block = GetDTypeInfo(dtype).block_size;
    // 10 groups and 3 tail rows: two sets of four groups and two single ones in the wide tiles.
    // One block, a few, a 1536-long row (the 1.5B model's), the longest row that is still short
    // (kWideMatvecMinRow is 4096), and long rows; for the K-quants the multiples of 256 of them.
    const int64_t n_out = 83;
    for (const int64_t n_in : {int64_t{32}, int64_t{96}, int64_t{256}, int64_t{1536}, int64_t{4064},
                               int64_t{4096}, int64_t{8960}}) {
      if (n_in % block != 0) continue;
      const std::vector<std::byte> w = Quantize(dtype, RandomFloats(n_out * n_in, ++seed), n_in);
      const TensorView weight{.dtype = dtype, .shape = Shape{n_out, n_in}, .bytes = w};
      const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, wide);
      ASSERT_TRUE(packed.ok() && packed->view().packed);
      // One token (the matvec), gemms on either side of the group tiles' switch to wide tiles
      // (8 tokens), and one past the wide tiles' token tile of 4.
      for (const int64_t n_tokens : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{8}, int64_t{9}}) {
        SCOPED_TRACE(testing::Message()
                     << DTypeName(dtype) << " n_in=" << n_in << " n_tokens=" << n_tokens);
        const std::vector<float> x = RandomFloats(n_tokens * n_in, ++seed, 0.5f);
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::vector<float> from_wide(static_cast<size_t>(n_tokens * n_out), -9.0f);
          ASSERT_TRUE(MatMulPacked(packed->view(), x, n_tokens, from_wide, p, wide).ok());
          for (const KernelTable& other : others) {
            std::vector<float> from_other(from_wide.size(), -7.0f);
            ASSERT_TRUE(MatMulPacked(packed->view(), x, n_tokens, from_other, p, other).ok());
            for (size_t o = 0; o < from_other.size(); ++o) {
              ASSERT_EQ(std::bit_cast<uint32_t>(from_wide[o]),
                        std::bit_cast<uint32_t>(from_other[o]))
                  << "output " << o << ": " << from_wide[o] << " vs " << from_other[o];
            }
          }
        }
      }
    }
  }
}

// The K-quants' 512-bit pair tiles (avx512/packed_x8_k_quant_pairs.inc) take the 256-bit group
// tiles' exact block sums and float tail, which avx2 runs: the same bits, for one token and for
// the pairs and the odd token of the gemm's group tiles. A single token runs them under k512Bit
// (k256Bit gives Q4_K, Q5_K and Q6_K the 256-bit group tile there), gemms of 2 to 7 tokens under
// k256Bit (k512Bit gives those the wide tiles).
TEST(MatvecTiles, KQuantPairTilesGiveTheAvx2Bits) {
  if (!MachineHasAvx512Level()) GTEST_SKIP() << "this CPU has no avx512 level";
  uint32_t seed = 1900;
  const KernelTable& avx2 = KernelsFor(Isa::kAvx2);
  for (const DType dtype : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const KernelTable one_token_pairs = Avx512TableWith(dtype, avx512::MatvecTiles::k512Bit);
    const KernelTable gemm_pairs = Avx512TableWith(dtype, avx512::MatvecTiles::k256Bit);
    const int64_t n_out = 80;  // whole groups: tail rows take each level's row dot, not these bits
    for (const int64_t n_in : {int64_t{256}, int64_t{1536}}) {
      const std::vector<std::byte> w = Quantize(dtype, RandomFloats(n_out * n_in, ++seed), n_in);
      const TensorView weight{.dtype = dtype, .shape = Shape{n_out, n_in}, .bytes = w};
      const StatusOr<PackedMatrix> for_pairs = PackedMatrix::Pack(weight, gemm_pairs);
      const StatusOr<PackedMatrix> for_avx2 = PackedMatrix::Pack(weight, avx2);
      ASSERT_TRUE(for_pairs.ok() && for_pairs->view().packed);
      ASSERT_TRUE(for_avx2.ok() && for_avx2->view().packed);
      for (const int64_t n_tokens : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}}) {
        SCOPED_TRACE(testing::Message()
                     << DTypeName(dtype) << " n_in=" << n_in << " n_tokens=" << n_tokens);
        const std::vector<float> x = RandomFloats(n_tokens * n_in, ++seed, 0.5f);
        std::vector<float> from_avx2(static_cast<size_t>(n_tokens * n_out), -9.0f);
        std::vector<float> from_pairs(from_avx2.size(), -7.0f);
        ASSERT_TRUE(MatMulPacked(for_avx2->view(), x, n_tokens, from_avx2, nullptr, avx2).ok());
        const KernelTable& pairs = n_tokens == 1 ? one_token_pairs : gemm_pairs;
        ASSERT_TRUE(MatMulPacked(for_pairs->view(), x, n_tokens, from_pairs, nullptr, pairs).ok());
        for (size_t o = 0; o < from_pairs.size(); ++o) {
          ASSERT_EQ(std::bit_cast<uint32_t>(from_avx2[o]), std::bit_cast<uint32_t>(from_pairs[o]))
              << "output " << o << ": " << from_avx2[o] << " vs " << from_pairs[o];
        }
      }
    }
  }
}

TEST(MatvecTiles, EachVendorAndFamilyGetsItsSet) {
  CpuFeatures cpu;
  cpu.vendor = "GenuineIntel";
  cpu.family = 6;
  EXPECT_EQ(avx512::MatvecTilesFor(cpu), avx512::MatvecTiles::k512Bit);
  cpu.vendor = "AuthenticAMD";
  cpu.family = 0x19;  // Zen 4
  EXPECT_EQ(avx512::MatvecTilesFor(cpu), avx512::MatvecTiles::kWideOnLongRows);
  cpu.family = 0x1A;  // Zen 5
  EXPECT_EQ(avx512::MatvecTilesFor(cpu), avx512::MatvecTiles::k256Bit);
  cpu.vendor = "";
  cpu.family = 0x19;
  EXPECT_EQ(avx512::MatvecTilesFor(cpu), avx512::MatvecTiles::k256Bit);
}

}  // namespace
}  // namespace dsinfer::kernels
#endif  // defined(__x86_64__)
