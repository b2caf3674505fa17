#include <gtest/gtest.h>

#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/tensor_view.h"

namespace dsinfer {
namespace {

TEST(DTypeTest, GgmlIdsAndSizesMatchGgml) {
  struct Expect {
    DType dtype;
    int id;
    int64_t block, bytes;
  };
  // ggml-common.h block sizes; ids from ggml.h.
  const Expect table[] = {
      {DType::kF32, 0, 1, 4},         {DType::kF16, 1, 1, 2},
      {DType::kQ4_0, 2, 32, 18},      {DType::kQ4_1, 3, 32, 20},
      {DType::kQ5_0, 6, 32, 22},      {DType::kQ5_1, 7, 32, 24},
      {DType::kQ8_0, 8, 32, 34},      {DType::kQ8_1, 9, 32, 36},
      {DType::kQ2_K, 10, 256, 84},    {DType::kQ3_K, 11, 256, 110},
      {DType::kQ4_K, 12, 256, 144},   {DType::kQ5_K, 13, 256, 176},
      {DType::kQ6_K, 14, 256, 210},   {DType::kQ8_K, 15, 256, 292},
      {DType::kIQ2_XXS, 16, 256, 66}, {DType::kIQ2_XS, 17, 256, 74},
      {DType::kIQ3_XXS, 18, 256, 98}, {DType::kIQ1_S, 19, 256, 50},
      {DType::kIQ4_NL, 20, 32, 18},   {DType::kIQ3_S, 21, 256, 110},
      {DType::kIQ2_S, 22, 256, 82},   {DType::kIQ4_XS, 23, 256, 136},
      {DType::kI8, 24, 1, 1},         {DType::kI16, 25, 1, 2},
      {DType::kI32, 26, 1, 4},        {DType::kI64, 27, 1, 8},
      {DType::kF64, 28, 1, 8},        {DType::kIQ1_M, 29, 256, 56},
      {DType::kBF16, 30, 1, 2},       {DType::kTQ1_0, 34, 256, 54},
      {DType::kTQ2_0, 35, 256, 66},
  };
  for (const auto& e : table) {
    const DTypeInfo& info = GetDTypeInfo(e.dtype);
    EXPECT_EQ(info.ggml_id, e.id) << info.name;
    EXPECT_EQ(info.block_size, e.block) << info.name;
    EXPECT_EQ(info.type_size, e.bytes) << info.name;
    EXPECT_EQ(DTypeFromGgmlId(static_cast<uint32_t>(e.id)), e.dtype);
  }
  // Removed ggml ids are unknown.
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 1000u}) {
    EXPECT_FALSE(DTypeFromGgmlId(removed).has_value()) << removed;
  }
}

TEST(DTypeTest, NamesLookUp) {
  EXPECT_EQ(DTypeFromName("Q4_K"), DType::kQ4_K);
  EXPECT_EQ(DTypeFromName("bf16"), DType::kBF16);
  EXPECT_FALSE(DTypeFromName("q4_9").has_value());
  EXPECT_EQ(DTypeFromSafetensorsName("F8_E4M3"), DType::kF8E4M3);
  EXPECT_EQ(DTypeFromSafetensorsName("BOOL"), DType::kBool);
  EXPECT_FALSE(DTypeFromSafetensorsName("f32").has_value());  // case matters in safetensors
  for (const DTypeInfo& info : AllDTypes()) EXPECT_EQ(&GetDTypeInfo(info.dtype), &info);
}

TEST(DTypeTest, RowBytes) {
  EXPECT_EQ(*RowBytes(DType::kQ4_K, 7168), 7168 / 256 * 144);
  EXPECT_EQ(*RowBytes(DType::kF16, 3), 6);
  EXPECT_FALSE(RowBytes(DType::kQ4_K, 128).ok());
  EXPECT_FALSE(RowBytes(DType::kF64, INT64_MAX).ok());
}

TEST(ShapeTest, CountsAndOverflow) {
  const Shape s{2, 3, 256};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.inner(), 256);
  EXPECT_EQ(*s.NumElements(), 1536);
  EXPECT_EQ(*s.NumBytes(DType::kQ8_0), 6 * 8 * 34);
  EXPECT_EQ(s.ToString(), "[2, 3, 256]");
  EXPECT_EQ(*Shape().NumElements(), 1);
  const Shape huge{1LL << 40, 1LL << 40};
  EXPECT_FALSE(huge.NumElements().has_value());
  EXPECT_FALSE(huge.NumBytes(DType::kF32).ok());
  const int64_t ne[] = {7168, 2048, 256};  // ffn_up_exps {D, Fe, E}
  EXPECT_EQ(*Shape::FromGgmlNe(ne), (Shape{256, 2048, 7168}));
  const int64_t negative[] = {4, -1};
  EXPECT_FALSE(Shape::FromDims(negative).ok());
  const int64_t too_many[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(Shape::FromDims(too_many).ok());
}

TEST(TensorViewTest, RowsOfAQuantisedMatrix) {
  std::vector<std::byte> bytes(204);  // 3 rows of 2 Q8_0 blocks
  const TensorView view{.dtype = DType::kQ8_0, .shape = Shape{3, 64}, .bytes = bytes};
  EXPECT_EQ(view.num_rows(), 3);
  EXPECT_EQ(view.row_bytes(), 68);
  EXPECT_EQ(view.Row(2).data(), bytes.data() + 136);
  const TensorView empty{.dtype = DType::kF32, .shape = Shape{0, 0}, .bytes = {}};
  EXPECT_EQ(empty.num_rows(), 0);
  EXPECT_EQ(empty.row_bytes(), 0);
}

}  // namespace
}  // namespace dsinfer
