// Bit-exactness with ggml: tests/data/quant/ holds inputs and the bytes, dequantised floats
// and dot products that ggml itself produced (provenance in its README.md). Every format in
// the QuantOps table must reproduce them exactly: the quantised bytes (what llama-quantize
// writes without an importance matrix), the dequantised floats, and the dot products of
// ggml's generic scalar code (compiled without FMA contraction, as our reference is).
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "quant/blocks.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

std::string QuantData(const std::string& name) {
  return std::string(DSINFER_TEST_DATA_DIR) + "/quant/" + name;
}

std::vector<std::byte> ReadFile(const std::string& name) {
  std::ifstream in(QuantData(name), std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

std::vector<float> ReadFloats(const std::string& name) {
  const std::vector<std::byte> bytes = ReadFile(name);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

nlohmann::json ReadJson(const std::string& name) {
  std::ifstream in(QuantData(name));
  return nlohmann::json::parse(in);
}

constexpr int64_t kRows = 4;
constexpr int64_t kPerRow = 1024;

// Q8_K leaves bsums unwritten for an all-zero super-block (ggml returns early); compare the
// bytes ggml defines and nothing else.
std::vector<std::byte> MaskUndefinedBytes(DType dtype, std::vector<std::byte> bytes) {
  if (dtype != DType::kQ8_K) return bytes;
  for (size_t off = 0; off + sizeof(BlockQ8_K) <= bytes.size(); off += sizeof(BlockQ8_K)) {
    float d = 0;
    std::memcpy(&d, bytes.data() + off, sizeof(d));
    if (d == 0.0f) std::memset(bytes.data() + off + offsetof(BlockQ8_K, bsums), 0, 32);
  }
  return bytes;
}

TEST(GgmlVectorsTest, QuantisedBytesAndDequantisedFloatsMatchGgml) {
  const nlohmann::json manifest = ReadJson("manifest.json");
  const std::vector<float> input = ReadFloats("inputs_4x1024.f32");
  ASSERT_EQ(input.size(), static_cast<size_t>(kRows * kPerRow));
  int checked = 0;
  int read_only = 0;
  for (const auto& entry : manifest["files"]) {
    if (entry["kind"] != "quantized") continue;
    const std::string file = entry["file"];
    if (file == "IQ4_NL.ref.bin") continue;        // ggml's run-time variant, not llama-quantize's
    if (file.ends_with(".special.bin")) continue;  // half conversions: their own test below
    const std::string type = entry["type"];
    const std::optional<DType> dtype = DTypeFromName(type);
    ASSERT_TRUE(dtype.has_value()) << "unknown type " << type << " in " << file;
    const QuantOps* ops = FindQuantOps(*dtype);
    if (ops == nullptr) continue;  // not implemented yet: see the coverage test
    SCOPED_TRACE(file);
    const std::vector<std::byte> want = ReadFile(file);
    std::vector<std::byte> got(want.size());
    if (ops->quantize == nullptr) {
      // Read-only types: ggml wrote these bytes by grid searches (some with an importance
      // matrix) that dsinfer does not implement.
      EXPECT_EQ(QuantizeRows(*dtype, input, kPerRow, got).code(), StatusCode::kUnimplemented);
      ++read_only;
    } else {
      ASSERT_TRUE(QuantizeRows(*dtype, input, kPerRow, got).ok());
      const std::vector<std::byte> got_masked = MaskUndefinedBytes(*dtype, got);
      const std::vector<std::byte> want_masked = MaskUndefinedBytes(*dtype, want);
      const int64_t row_bytes = *RowBytes(*dtype, kPerRow);
      const int64_t block_bytes = GetDTypeInfo(*dtype).type_size;
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got_masked[i], want_masked[i])
            << "first differing byte " << i << ": row " << i / row_bytes << ", block "
            << (i % row_bytes) / block_bytes << ", byte " << i % block_bytes << " of the block";
      }
      ++checked;
    }

    const std::string dequant_file = file.substr(0, file.size() - 4) + ".dequant.f32";
    if (type == "Q8_1") continue;  // ggml has no Q8_1 dequantiser
    const std::vector<float> want_f = ReadFloats(dequant_file);
    std::vector<float> got_f(want_f.size());
    ASSERT_TRUE(DequantizeRows(*dtype, want, kPerRow, got_f).ok());
    for (size_t i = 0; i < want_f.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(got_f[i]), std::bit_cast<uint32_t>(want_f[i]))
          << dequant_file << " element " << i << ": " << got_f[i] << " vs " << want_f[i];
    }
  }
  EXPECT_EQ(checked, 16);   // F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 IQ4_NL IQ4_XS Q2_K..Q6_K Q8_K
  EXPECT_EQ(read_only, 7);  // IQ2_XXS IQ2_XS IQ2_S IQ3_XXS IQ3_S IQ1_S IQ1_M: floats only
}

TEST(GgmlVectorsTest, DotProductsMatchGgmlGenericCodeBitForBit) {
  const nlohmann::json dots = ReadJson("dots.json");
  int checked = 0;
  for (const auto& [type, entry] : dots.items()) {
    const std::optional<DType> dtype = DTypeFromName(type);
    ASSERT_TRUE(dtype.has_value()) << type;
    const QuantOps* ops = FindQuantOps(*dtype);
    if (ops == nullptr) continue;
    SCOPED_TRACE(type);
    ASSERT_EQ(DTypeName(ops->vec_dot_type),
              DTypeName(*DTypeFromName(entry["activation"].get<std::string>())));
    const std::vector<std::byte> weights = ReadFile(entry["weight_file"]);
    const std::vector<std::byte> acts = ReadFile(entry["activation_file"]);
    const int64_t w_row = *RowBytes(*dtype, kPerRow);
    const int64_t a_row = *RowBytes(ops->vec_dot_type, kPerRow);
    for (size_t k = 0; k < entry["dots"].size(); ++k) {
      const int64_t wr = entry["weight_rows"][k];
      const int64_t ar = entry["activation_rows"][k];
      const float got =
          ops->vec_dot(kPerRow, weights.data() + wr * w_row, acts.data() + ar * a_row);
      const auto want_bits = static_cast<uint32_t>(
          std::stoul(entry["dots_f32_bits"][k].get<std::string>(), nullptr, 16));
      EXPECT_EQ(std::bit_cast<uint32_t>(got), want_bits)
          << "row " << wr << ": " << got << " vs " << std::bit_cast<float>(want_bits);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 19);  // every weight type ggml pairs with an activation type
}

TEST(GgmlVectorsTest, HalfConversionsOfSpecialValuesMatchGgml) {
  const std::vector<float> special = ReadFloats("special_values.f32");
  for (const auto& [type, file] :
       {std::pair{DType::kF16, "F16.special.bin"}, std::pair{DType::kBF16, "BF16.special.bin"}}) {
    const std::vector<std::byte> want = ReadFile(file);
    std::vector<std::byte> got(want.size());
    ASSERT_TRUE(QuantizeRows(type, special, static_cast<int64_t>(special.size()), got).ok());
    for (size_t i = 0; i < want.size(); i += 2) {
      uint16_t g = 0, w = 0;
      std::memcpy(&g, got.data() + i, 2);
      std::memcpy(&w, want.data() + i, 2);
      EXPECT_EQ(g, w) << file << " value " << special[i / 2] << " (bits 0x" << std::hex
                      << std::bit_cast<uint32_t>(special[i / 2]) << ")";
    }
  }
}

}  // namespace
}  // namespace dsinfer
