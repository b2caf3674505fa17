// The row-interleaved (x8) weights of packed_layout.h / packed_matrix.h: packing is a lossless
// byte permutation (every row unpacks to its original bytes), and MatMulPacked on every
// level of this CPU equals the reference MatMul on the unpacked weight, for row counts that
// leave a tail of unpacked rows, several tokens, and 1 or 2 threads; and that it is batch
// invariant: each token's outputs in a call of many tokens (the gemm's tiles, their tails and
// its L2-sized token chunks) are bit-identical to a call on that token alone (the matvec).
//
// Tolerance: as simd_test.cc, |got - want| <= 1e-6 * sum |w_i a_i| of the dequantised
// operands: the block integer sums are exact (the level offsets of Q4_0, Q5_0 and Q8_0
// included) and only the float order differs.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/packed_layout.h"
#include "kernels/packed_matrix.h"
#include "kernels/packed_row_slices.h"
#include "kernels/reference/matmul.h"
#include "platform/thread_pool.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

constexpr DType kPackedTypes[] = {DType::kQ4_0,   DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                  DType::kIQ4_NL, DType::kQ8_0, DType::kQ2_K, DType::kQ3_K,
                                  DType::kQ4_K,   DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS};

TEST(PackedLayout, EveryRowUnpacksToItsOriginalBytes) {
  uint32_t seed = 7;
  for (const DType dtype : kPackedTypes) {
    const int64_t n_in = 5 * GetDTypeInfo(dtype).block_size;
    const int64_t row_bytes = *RowBytes(dtype, n_in);
    const std::vector<std::byte> rows =
        Quantize(dtype, RandomFloats(kPackRows * n_in, ++seed), n_in);
    std::vector<std::byte> group(static_cast<size_t>(PackedGroupBytes(dtype, n_in)));
    PackGroup(dtype, n_in, rows.data(), row_bytes, group.data());
    for (int r = 0; r < kPackRows; ++r) {
      std::vector<std::byte> row(static_cast<size_t>(row_bytes), std::byte{0xEE});
      UnpackGroupRow(dtype, n_in, group.data(), r, row.data());
      ASSERT_TRUE(std::equal(row.begin(), row.end(), rows.begin() + r * row_bytes))
          << DTypeName(dtype) << " row " << r;
    }
  }
}

TEST(PackedLayout, SizesAreTheRowsPlusTheUnpackedQ4KScales) {
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ4_0, 16, 64), 16 * 2 * 18);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ5_0, 9, 64), 9 * 2 * 22);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ4_1, 9, 64), 9 * 2 * 20);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ5_1, 17, 32), 17 * 24);
  EXPECT_EQ(*PackedMatrixBytes(DType::kIQ4_NL, 11, 32), 11 * 18);
  EXPECT_EQ(*PackedMatrixBytes(DType::kIQ4_XS, 11, 256), 8 * 136 + 16 + 3 * 136);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ8_0, 11, 32), 11 * 34);
  // Q4_K: one group of 8 rows (8 * 144 + 32) and 3 tail rows of 144.
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ4_K, 11, 256), 8 * 144 + 32 + 3 * 144);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ5_K, 11, 512), 2 * (8 * 176 + 32) + 3 * 2 * 176);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ6_K, 11, 256), 11 * 210);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ2_K, 11, 256), 11 * 84);
  EXPECT_EQ(*PackedMatrixBytes(DType::kQ3_K, 11, 256), 8 * 110 + 32 + 3 * 110);
  EXPECT_EQ(*PackedMatrixBytes(DType::kF16, 11, 32), 11 * 64);  // no packed layout
}

TEST(PackedLayout, LongRowsAreCutIntoEvenColumnSlices) {
  EXPECT_EQ(RowSlicesOf(4096).count, 1);
  EXPECT_EQ(RowSlicesOf(4096).Width(0, 4096), 4096);
  const RowSlices down = RowSlicesOf(8960);  // R1-Distill-Qwen-1.5B's ffn_down
  EXPECT_EQ(down.count, 5);
  EXPECT_EQ(down.width, 1792);
  EXPECT_EQ(down.Width(4, 8960), 1792);
  const RowSlices v3 = RowSlicesOf(18432);  // DeepSeek-V3's dense ffn_down
  EXPECT_EQ(v3.count, 9);
  EXPECT_EQ(v3.width, 2048);
  const RowSlices odd = RowSlicesOf(4128);  // 129 blocks of 32
  EXPECT_EQ(odd.count, 3);
  EXPECT_EQ(odd.width, 1536);
  EXPECT_EQ(odd.Width(2, 4128), 1056);
}

// Rows past kLongestUnslicedRow, where this machine slices them: group g's slice s lies where
// PackedSliceOffset says (quads of 4
// groups, each slice of the quad's groups in turn) and unpacks to that slice of the rows' bytes.
TEST(PackedLayout, LongRowsUnpackSliceBySliceFromTheirQuads) {
  uint32_t seed = 70;
  for (const DType dtype : {DType::kQ4_0, DType::kQ4_K}) {
    const int64_t n_in = 8960;
    const int64_t n_out = 6 * kPackRows + 3;  // a whole quad, a quad of two groups, 3 tail rows
    const int64_t groups = n_out / kPackRows;
    const int64_t row_bytes = *RowBytes(dtype, n_in);
    const std::vector<std::byte> rows = Quantize(dtype, RandomFloats(n_out * n_in, ++seed), n_in);
    std::vector<std::byte> packed(static_cast<size_t>(*PackedMatrixBytes(dtype, n_out, n_in)));
    const TensorView weight{.dtype = dtype, .shape = Shape{n_out, n_in}, .bytes = rows};
    ASSERT_TRUE(PackInto(weight, packed).ok());
    const RowSlices slices = PackedRowSlices(n_in);
    if (slices.count == 1) GTEST_SKIP() << "this machine's kernels keep long rows whole";
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t s = 0; s < slices.count; ++s) {
        const int64_t width = slices.Width(s, n_in);
        const int64_t slice_bytes = *RowBytes(dtype, width);
        const int64_t skip = *RowBytes(dtype, slices.Begin(s));
        for (int r = 0; r < kPackRows; ++r) {
          std::vector<std::byte> row(static_cast<size_t>(slice_bytes), std::byte{0xEE});
          UnpackGroupRow(dtype, width,
                         packed.data() + PackedSliceOffset(dtype, n_in, slices, groups, g, s), r,
                         row.data());
          ASSERT_TRUE(std::equal(row.begin(), row.end(),
                                 rows.begin() + (g * kPackRows + r) * row_bytes + skip))
              << DTypeName(dtype) << " group " << g << " slice " << s << " row " << r;
        }
      }
    }
    // The tail rows follow every group, as stored.
    const int64_t tail = groups * PackedGroupBytes(dtype, n_in);
    EXPECT_TRUE(std::equal(packed.begin() + tail, packed.end(),
                           rows.begin() + groups * kPackRows * row_bytes));
  }
}

class PackedMatMulTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& table() const { return KernelsFor(GetParam()); }
};

TEST_P(PackedMatMulTest, MatchesTheReferenceMatMul) {
  const KernelTable& t = table();
  ThreadPool pool(2);
  uint32_t seed = 100;
  for (const DType dtype : kPackedTypes) {
    const QuantOps* ops = FindQuantOps(dtype);
    const int64_t bs = GetDTypeInfo(dtype).block_size;
    for (const int64_t n_out : {8, 13, 67}) {
      // 4096 + bs: rows long enough for the 32-element types' matvec to run the wide tiles
      // at avx512 (kWideMatvecMinRow), 8 groups of them with 67 rows.
      for (const int64_t n_in : {bs, 3 * bs, 4096 + bs}) {
        const std::vector<std::byte> w = Quantize(dtype, RandomFloats(n_out * n_in, ++seed), n_in);
        const std::vector<float> w_deq = Dequantize(dtype, w, n_out * n_in);
        const TensorView weight{.dtype = dtype, .shape = Shape{n_out, n_in}, .bytes = w};
        const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
        ASSERT_TRUE(packed.ok()) << packed.status().ToString();
        const bool expect_packed = t.PackedMatvec(dtype) != nullptr;
        EXPECT_EQ(packed->view().packed, expect_packed);
        EXPECT_EQ(packed->owned_bytes(),
                  expect_packed ? static_cast<size_t>(*PackedMatrixBytes(dtype, n_out, n_in)) : 0);
        for (const int64_t n_tokens : {1, 3, 9}) {
          SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " " << n_out << "x" << n_in
                                          << " tokens=" << n_tokens);
          const std::vector<float> x = RandomFloats(n_tokens * n_in, ++seed, 0.5f);
          const std::vector<float> x_deq =
              Dequantize(ops->vec_dot_type, Quantize(ops->vec_dot_type, x, n_in), n_tokens * n_in);
          std::vector<float> want(static_cast<size_t>(n_tokens * n_out));
          ASSERT_TRUE(dsinfer::MatMul(weight, x, n_tokens, want, nullptr).ok());
          for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
            std::vector<float> got(want.size(), -7.0f);
            const Status s = MatMulPacked(packed->view(), x, n_tokens, got, p, t);
            ASSERT_TRUE(s.ok()) << s.ToString();
            for (int64_t tok = 0; tok < n_tokens; ++tok) {
              for (int64_t o = 0; o < n_out; ++o) {
                const size_t i = static_cast<size_t>(tok * n_out + o);
                const double magnitude = Magnitude(w_deq, x_deq, static_cast<size_t>(o * n_in),
                                                   static_cast<size_t>(tok * n_in), n_in);
                ASSERT_NEAR(got[i], want[i], kDotTol * magnitude) << "t=" << tok << " o=" << o;
              }
            }
          }
        }
      }
    }
  }
}

TEST_P(PackedMatMulTest, EveryTokenEqualsItsCallAlone) {
  const KernelTable& t = table();
  ThreadPool pool(2);
  uint32_t seed = 500;
  for (const DType dtype : kPackedTypes) {
    if (t.PackedMatvec(dtype) == nullptr) continue;
    const int64_t bs = GetDTypeInfo(dtype).block_size;
    // 10 groups and 3 tail rows: wide tiles of 4 groups, single groups after them (also per
    // thread: 5 groups each on 2), and the unpacked tail.
    const int64_t n_out = 83;
    // 3 blocks: one token chunk, and the group tile as the matvec; 32768: activation rows of
    // 32-35 KiB, so 67 tokens take three of the gemm's 1 MiB chunks, and the 32-element types'
    // matvec runs the wide tiles too.
    for (const int64_t n_in : {3 * bs, int64_t{32768}}) {
      const std::vector<std::byte> w = Quantize(dtype, RandomFloats(n_out * n_in, ++seed), n_in);
      const TensorView weight{.dtype = dtype, .shape = Shape{n_out, n_in}, .bytes = w};
      const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
      ASSERT_TRUE(packed.ok() && packed->view().packed);
      for (const int64_t n_tokens : {2, 3, 4, 5, 7, 8, 13, 67}) {
        SCOPED_TRACE(testing::Message()
                     << DTypeName(dtype) << " n_in=" << n_in << " tokens=" << n_tokens);
        const std::vector<float> x = RandomFloats(n_tokens * n_in, ++seed, 0.5f);
        std::vector<float> alone(static_cast<size_t>(n_tokens * n_out));
        for (int64_t tok = 0; tok < n_tokens; ++tok) {
          const std::span<const float> row(x.data() + tok * n_in, static_cast<size_t>(n_in));
          const std::span<float> out(alone.data() + tok * n_out, static_cast<size_t>(n_out));
          ASSERT_TRUE(MatMulPacked(packed->view(), row, 1, out, nullptr, t).ok());
        }
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::vector<float> together(alone.size(), -7.0f);
          ASSERT_TRUE(MatMulPacked(packed->view(), x, n_tokens, together, p, t).ok());
          for (size_t i = 0; i < alone.size(); ++i) {
            // Bit equality, not ==, so that -0.0 vs 0.0 counts too.
            ASSERT_EQ(std::bit_cast<uint32_t>(alone[i]), std::bit_cast<uint32_t>(together[i]))
                << "token " << i / static_cast<size_t>(n_out) << " row "
                << i % static_cast<size_t>(n_out) << ": " << alone[i] << " vs " << together[i];
          }
        }
      }
    }
  }
}

// IQ4_NL's largest products at avx2, where its signed levels meet vpmaddubsw's 16-bit pair
// sums: every weight at the code book's -127 (nibble 0) against activations that quantise to
// +-127, so each pair sums to +-2 * 127 * 127 = +-32258, just inside int16.
TEST_P(PackedMatMulTest, IQ4NLExtremeLevelsStayExact) {
  const KernelTable& t = table();
  if (t.PackedMatvec(DType::kIQ4_NL) == nullptr) GTEST_SKIP() << "not packed at this level";
  constexpr int64_t kNOut = 16;
  constexpr int64_t kNIn = 64;
  std::vector<std::byte> w(static_cast<size_t>(kNOut * *RowBytes(DType::kIQ4_NL, kNIn)));
  auto* blocks = reinterpret_cast<BlockIQ4_NL*>(w.data());
  for (int64_t b = 0; b < kNOut * kNIn / 32; ++b) {
    blocks[b].d = Fp32ToFp16(1.0f);
    std::fill(std::begin(blocks[b].qs), std::end(blocks[b].qs), uint8_t{0});
  }
  const TensorView weight{.dtype = DType::kIQ4_NL, .shape = Shape{kNOut, kNIn}, .bytes = w};
  const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
  ASSERT_TRUE(packed.ok() && packed->view().packed);
  for (const float sign : {1.0f, -1.0f}) {
    const std::vector<float> x(kNIn, sign);  // quantises to d = 1/127, every level 127 * sign
    std::vector<float> want(kNOut), got(kNOut, -7.0f);
    ASSERT_TRUE(dsinfer::MatMul(weight, x, 1, want, nullptr).ok());
    ASSERT_TRUE(MatMulPacked(packed->view(), x, 1, got, nullptr, t).ok());
    for (int64_t o = 0; o < kNOut; ++o) {
      EXPECT_NEAR(want[o], -sign * 127.0f * kNIn, 0.05f * kNIn) << "reference, row " << o;
      EXPECT_NEAR(got[o], want[o], 1e-6 * 127.0 * kNIn) << "row " << o;
    }
  }
}

// A batch of products, each output bit-identical to its own MatMulPacked (a row-layout one to
// its MatMul): weights of several types and widths (Q4_0, Q5_0, IQ4_NL and Q8_0 read Q8_0
// activations, Q4_1 and Q5_1 Q8_1, the K-quants and the lattice types Q8_K, F16 F16), some
// sharing one input and some not, row counts with tails and under one group, weights left in
// row layout (the lattice types have no packed layout), a product of no tokens, and products
// of other token counts than the rest.
TEST_P(PackedMatMulTest, BatchEqualsEachProductAlone) {
  const KernelTable& t = table();
  ThreadPool pool(2);
  struct Weight {
    int64_t n_out, n_in;
    DType dtype;
    bool packed;
  };
  const Weight weights[] = {{5, 256, DType::kQ2_K, true},    {2048, 512, DType::kQ4_0, true},
                            {13, 512, DType::kQ4_0, true},   {40, 512, DType::kQ8_0, true},
                            {5, 512, DType::kQ5_0, true},    {24, 512, DType::kQ4_K, true},
                            {67, 256, DType::kQ6_K, true},   {32, 256, DType::kQ4_0, false},
                            {16, 256, DType::kQ5_K, true},   {19, 256, DType::kQ3_K, true},
                            {16, 256, DType::kQ2_K, true},   {24, 512, DType::kQ4_1, true},
                            {9, 512, DType::kQ5_1, true},    {40, 256, DType::kIQ4_NL, true},
                            {24, 512, DType::kIQ4_XS, true}, {37, 256, DType::kIQ2_XS, false},
                            {70, 512, DType::kIQ3_S, false}, {5, 256, DType::kIQ1_M, false},
                            {21, 512, DType::kF16, false}};
  // Which input each product reads (inputs 0 and 1 are n_in 512, 2 and 3 are 256), and its
  // tokens as a multiple of the call's (0: no tokens; 2: twice as many, from the same floats
  // as the products of input 0 that read the first half, so not sharing their conversion).
  // The first product has no full group: the joint range starts with the second's.
  const int input_of[] = {2, 0, 0, 1, 0, 0, 2, 3, 2, 3, 2, 0, 1, 3, 1, 2, 0, 3, 1};
  const int64_t input_n_in[] = {512, 512, 256, 256};
  const int64_t token_factor[] = {1, 1, 1, 1, 2, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1};
  uint32_t seed = 300;
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::unique_ptr<PackedMatrix>> packed;
  std::vector<PackedMatrixView> views;
  for (const Weight& w : weights) {
    bytes.push_back(Quantize(w.dtype, RandomFloats(w.n_out * w.n_in, ++seed), w.n_in));
    const TensorView v{.dtype = w.dtype, .shape = Shape{w.n_out, w.n_in}, .bytes = bytes.back()};
    if (w.packed) {
      packed.push_back(std::make_unique<PackedMatrix>(PackedMatrix::Pack(v, t).value()));
      views.push_back(packed.back()->view());
    } else {
      views.push_back({.dtype = w.dtype, .n_out = w.n_out, .n_in = w.n_in, .bytes = v.bytes});
    }
  }
  for (const int64_t n_tokens : {int64_t{1}, int64_t{6}}) {
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      SCOPED_TRACE(testing::Message() << "tokens " << n_tokens << " pool " << (p != nullptr));
      std::vector<std::vector<float>> inputs;
      for (const int64_t n_in : input_n_in) {
        inputs.push_back(RandomFloats(2 * n_tokens * n_in, ++seed));
      }
      std::vector<std::vector<float>> together(views.size());
      std::vector<PackedProduct> products;
      for (size_t i = 0; i < views.size(); ++i) {
        const int64_t tokens = n_tokens * token_factor[i];
        const std::vector<float>& x = inputs[static_cast<size_t>(input_of[i])];
        together[i].assign(static_cast<size_t>(tokens * views[i].n_out), -1.0f);
        products.push_back({.weight = views[i],
                            .x = std::span(x).first(static_cast<size_t>(tokens * views[i].n_in)),
                            .n_tokens = tokens,
                            .y = together[i]});
      }
      ASSERT_TRUE(MatMulPackedBatch(products, p, t).ok());
      for (size_t i = 0; i < views.size(); ++i) {
        std::vector<float> alone(together[i].size());
        const PackedMatrixView& v = views[i];
        if (v.packed) {
          ASSERT_TRUE(MatMulPacked(v, products[i].x, products[i].n_tokens, alone, p, t).ok());
        } else {
          const TensorView rows{
              .dtype = v.dtype, .shape = Shape{v.n_out, v.n_in}, .bytes = v.bytes};
          ASSERT_TRUE(MatMul(rows, products[i].x, products[i].n_tokens, alone, p, t).ok());
        }
        for (size_t j = 0; j < alone.size(); ++j) {
          ASSERT_EQ(std::bit_cast<uint32_t>(together[i][j]), std::bit_cast<uint32_t>(alone[j]))
              << "product " << i << " output " << j;
        }
      }
    }
  }
}

TEST_P(PackedMatMulTest, BatchRejectsBadProducts) {
  const KernelTable& t = table();
  const std::vector<std::byte> w = Quantize(DType::kQ8_0, RandomFloats(int64_t{16} * 64, 5), 64);
  const StatusOr<PackedMatrix> m =
      PackedMatrix::Pack(TensorView{.dtype = DType::kQ8_0, .shape = Shape{16, 64}, .bytes = w}, t);
  ASSERT_TRUE(m.ok());
  const std::vector<float> x = RandomFloats(64, 6);
  std::vector<float> y(16, -3.0f);
  std::vector<float> row_y(16, -3.0f);
  std::vector<float> short_y(15);
  const PackedProduct good{.weight = m->view(), .x = x, .n_tokens = 1, .y = y};
  const PackedProduct short_output{.weight = m->view(), .x = x, .n_tokens = 1, .y = short_y};
  // A row-layout product before the bad one: nothing runs, so no output is written.
  const PackedProduct row_layout{
      .weight = {.dtype = DType::kQ8_0, .n_out = 16, .n_in = 64, .bytes = w},
      .x = x,
      .n_tokens = 1,
      .y = row_y};
  const PackedProduct bad_batch[] = {row_layout, good, short_output};
  const Status bad = MatMulPackedBatch(bad_batch, nullptr, t);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("product 2 (q8_0 [16, 64])"), std::string::npos) << bad.message();
  EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return v == -3.0f; }));
  EXPECT_TRUE(std::all_of(row_y.begin(), row_y.end(), [](float v) { return v == -3.0f; }));
  // A view marked packed whose type has no kernels: an error, alone or in a batch.
  const std::vector<std::byte> f64_bytes(size_t{16} * 64 * 8);
  const PackedMatrixView f64{
      .dtype = DType::kF64, .packed = true, .n_out = 16, .n_in = 64, .bytes = f64_bytes};
  EXPECT_EQ(MatMulPacked(f64, x, 1, y, nullptr, t).code(), StatusCode::kInvalidArgument);
  const PackedProduct mixed[] = {good, {.weight = f64, .x = x, .n_tokens = 1, .y = y}};
  EXPECT_EQ(MatMulPackedBatch(mixed, nullptr, t).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(MatMulPackedBatch({}, nullptr, t).ok());
}

// Q8_0 levels of -128, which no quantiser writes but a file may hold, at every level: avx2's
// tile takes |q| = 128 against a sign-moved activation (pairs up to 2 * 128 * 127), avx512's the
// biased byte 0. Against the reference dot, with activations at the +-127 extremes.
TEST_P(PackedMatMulTest, Q8_0LevelsOfMinus128MultiplyExactly) {
  const KernelTable& t = table();
  const int64_t n_out = 16;
  const int64_t n_in = 64;
  std::vector<BlockQ8_0> blocks(static_cast<size_t>(n_out * n_in / kQK));
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i].d = Fp32ToFp16(0.25f);
    for (int k = 0; k < kQK; ++k) {
      blocks[i].qs[k] = static_cast<int8_t>((i + static_cast<size_t>(k)) % 3 == 0 ? -128 : 127 - k);
    }
  }
  const auto* bytes = reinterpret_cast<const std::byte*>(blocks.data());
  const TensorView weight{.dtype = DType::kQ8_0,
                          .shape = Shape{n_out, n_in},
                          .bytes = std::span(bytes, blocks.size() * sizeof(BlockQ8_0))};
  std::vector<float> x(static_cast<size_t>(2 * n_in));
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 == 0 ? 1.0f : -1.0f;  // quantised to +-127
  const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
  ASSERT_TRUE(packed.ok());
  std::vector<float> want(static_cast<size_t>(2 * n_out));
  std::vector<float> got(want.size());
  ASSERT_TRUE(dsinfer::MatMul(weight, x, 2, want, nullptr).ok());
  ASSERT_TRUE(MatMulPacked(packed->view(), x, 2, got, nullptr, t).ok());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << i;
}

// The K-quants' extreme levels and scales: every byte of every block 0xFF (the top level and
// scale of each type: Q6_K's level 63, Q3_K's level 7 with the third bit, Q2_K's 3 with scale and
// min 15), 0x00 (Q3_K's -4 and its scale of -32), or a mixture, against activations that
// quantise to +-127 and to a +-127 pattern. The one-token tiles hold each level in place (Q2_K's
// top quadrant 64 times its value) and shift the exact sums down: against the reference dot.
template <typename Block>
std::vector<std::byte> KQuantBlocksOf(int64_t n_blocks, int pattern) {
  std::vector<std::byte> bytes(static_cast<size_t>(n_blocks) * sizeof(Block));
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] =
        static_cast<std::byte>(pattern >= 0 ? pattern : static_cast<int>((i * 37 + 11) % 256));
  }
  auto* blocks = reinterpret_cast<Block*>(bytes.data());
  for (int64_t b = 0; b < n_blocks; ++b) {
    blocks[b].d = Fp32ToFp16(0.5f);
    if constexpr (requires { blocks[b].dmin; }) blocks[b].dmin = Fp32ToFp16(0.25f);
  }
  return bytes;
}

TEST_P(PackedMatMulTest, KQuantExtremeLevelsMultiplyExactly) {
  const KernelTable& t = table();
  constexpr int64_t kNOut = 16;
  constexpr int64_t kNIn = 512;
  constexpr int64_t kBlocks = kNOut * kNIn / kQK_K;
  std::vector<float> x(static_cast<size_t>(2 * kNIn));
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = i < static_cast<size_t>(kNIn) ? 1.0f : (i % 3 == 0 ? -1.0f : 1.0f);
  }
  for (const int pattern : {0xFF, 0x00, -1}) {
    for (const auto& [dtype, bytes] :
         {std::pair{DType::kQ2_K, KQuantBlocksOf<BlockQ2_K>(kBlocks, pattern)},
          std::pair{DType::kQ3_K, KQuantBlocksOf<BlockQ3_K>(kBlocks, pattern)},
          std::pair{DType::kQ4_K, KQuantBlocksOf<BlockQ4_K>(kBlocks, pattern)},
          std::pair{DType::kQ5_K, KQuantBlocksOf<BlockQ5_K>(kBlocks, pattern)},
          std::pair{DType::kQ6_K, KQuantBlocksOf<BlockQ6_K>(kBlocks, pattern)}}) {
      SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " pattern " << pattern);
      const TensorView weight{.dtype = dtype, .shape = Shape{kNOut, kNIn}, .bytes = bytes};
      const std::vector<float> w_deq = Dequantize(dtype, bytes, kNOut * kNIn);
      const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
      ASSERT_TRUE(packed.ok());
      std::vector<float> want(static_cast<size_t>(2 * kNOut));
      std::vector<float> got(want.size(), -7.0f);
      ASSERT_TRUE(dsinfer::MatMul(weight, x, 2, want, nullptr).ok());
      for (int64_t tok = 0; tok < 2; ++tok) {  // each token alone: the one-token tiles
        const std::span<const float> row(x.data() + tok * kNIn, static_cast<size_t>(kNIn));
        const std::span<float> out(got.data() + tok * kNOut, static_cast<size_t>(kNOut));
        ASSERT_TRUE(MatMulPacked(packed->view(), row, 1, out, nullptr, t).ok());
      }
      for (int64_t tok = 0; tok < 2; ++tok) {
        for (int64_t o = 0; o < kNOut; ++o) {
          const size_t i = static_cast<size_t>(tok * kNOut + o);
          const double magnitude = Magnitude(w_deq, x, static_cast<size_t>(o * kNIn),
                                             static_cast<size_t>(tok * kNIn), kNIn);
          ASSERT_NEAR(got[i], want[i], kDotTol * magnitude) << "t=" << tok << " o=" << o;
        }
      }
    }
  }
}

TEST_P(PackedMatMulTest, RejectsWrongSizes) {
  const KernelTable& t = table();
  const int64_t n_in = 256;
  const std::vector<std::byte> w = Quantize(DType::kQ4_K, RandomFloats(16 * n_in, 3), n_in);
  const TensorView weight{.dtype = DType::kQ4_K, .shape = Shape{16, n_in}, .bytes = w};
  const StatusOr<PackedMatrix> packed = PackedMatrix::Pack(weight, t);
  ASSERT_TRUE(packed.ok());
  std::vector<float> x(n_in), y(16);
  EXPECT_TRUE(MatMulPacked(packed->view(), x, 1, y, nullptr, t).ok());
  std::vector<float> short_y(15);
  EXPECT_EQ(MatMulPacked(packed->view(), x, 1, short_y, nullptr, t).code(),
            StatusCode::kInvalidArgument);
  PackedMatrixView truncated = packed->view();
  truncated.bytes = truncated.bytes.first(truncated.bytes.size() - 1);
  EXPECT_EQ(MatMulPacked(truncated, x, 1, y, nullptr, t).code(), StatusCode::kInvalidArgument);
  const TensorView three_d{.dtype = DType::kQ4_K, .shape = Shape{2, 8, n_in}, .bytes = w};
  EXPECT_EQ(PackedMatrix::Pack(three_d, t).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, PackedMatMulTest,
                         ::testing::ValuesIn(MachineLevels()), LevelName);

}  // namespace
}  // namespace dsinfer::kernels
