// SafetensorsWriter: files read back by SafetensorsFile / SafetensorsModel with the same
// tensors, laid out as the reference writer lays them out (tests/data/safetensors/tiny.* is
// reproduced byte for byte), written in pieces in any order, and refused when incomplete.
#include "formats/safetensors_writer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "formats/safetensors_file.h"
#include "formats/safetensors_model.h"

namespace dsinfer {
namespace {

using Bytes = std::vector<std::byte>;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name;
}

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  Bytes out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xFF);
  return out;
}

template <typename T>
Bytes AsBytes(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

bool Same(std::span<const std::byte> a, const Bytes& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

TEST(SafetensorsWriterTest, ReproducesTheReferenceLayoutByteForByte) {
  // tests/data/safetensors/make_fixtures.py lays tiny.safetensors out as the Rust writer does.
  const std::vector<float> embed = {0.5F, -1.25F, 2.0F, 3.5F, -4.0F, 8.0F};
  const Bytes norm = {std::byte{0x80}, std::byte{0x3F}, std::byte{0x00}, std::byte{0xC0},
                      std::byte{0x00}, std::byte{0x3F}, std::byte{0x40}, std::byte{0x40}};
  const Bytes gate = {std::byte{1}, std::byte{0x80}, std::byte{0x7F}};
  const std::string path = TempPath("tiny_rewrite.safetensors");
  SafetensorsWriter w;
  // Declared in an order other than the file's: the writer sorts.
  ASSERT_TRUE(w.AddTensor("model.layers.0.mlp.gate.weight", DType::kI8, Shape{3}).ok());
  ASSERT_TRUE(w.AddTensor("model.norm.weight", DType::kBF16, Shape{4}).ok());
  ASSERT_TRUE(w.AddTensor("model.embed_tokens.weight", DType::kF32, Shape{2, 3}).ok());
  ASSERT_TRUE(w.Open(path).ok());
  EXPECT_EQ(w.tensor_order(),
            (std::vector<std::string>{"model.embed_tokens.weight", "model.norm.weight",
                                      "model.layers.0.mlp.gate.weight"}));
  ASSERT_TRUE(w.Write("model.embed_tokens.weight", AsBytes(embed)).ok());
  ASSERT_TRUE(w.Write("model.norm.weight", norm).ok());
  ASSERT_TRUE(w.Write("model.layers.0.mlp.gate.weight", gate).ok());
  ASSERT_TRUE(w.Commit().ok());
  const Bytes expected =
      ReadAll(std::string(DSINFER_TEST_DATA_DIR) + "/safetensors/tiny.safetensors");
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(ReadAll(path) == expected);
  EXPECT_EQ(w.file_size(), expected.size());
  std::remove(path.c_str());
}

TEST(SafetensorsWriterTest, RoundTripsEveryDtypeWrittenInPieces) {
  struct Case {
    const char* name;
    DType dtype;
    Shape shape;
  };
  const std::vector<Case> cases = {
      {"a.f8", DType::kF8E4M3, Shape{5, 7}}, {"b.f32", DType::kF32, Shape{3, 5}},
      {"c.bf16", DType::kBF16, Shape{9}},    {"d.f16", DType::kF16, Shape{2, 3, 1}},
      {"e.i64", DType::kI64, Shape{3}},      {"f.u8", DType::kU8, Shape{1}},
      {"g.scalar", DType::kF32, Shape{}},    {"h.empty", DType::kF32, Shape{0, 4}},
      {"i.f64", DType::kF64, Shape{2}},      {"j.i32", DType::kI32, Shape{4}},
      {"k.e5m2", DType::kF8E5M2, Shape{3}},  {"l.bool", DType::kBool, Shape{2}},
  };
  const std::string path = TempPath("round_trip.safetensors");
  SafetensorsWriter w;
  std::vector<Bytes> data;
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_TRUE(w.AddTensor(cases[i].name, cases[i].dtype, cases[i].shape).ok()) << cases[i].name;
    data.push_back(RandomBytes(static_cast<size_t>(*cases[i].shape.NumBytes(cases[i].dtype)),
                               static_cast<uint32_t>(i + 1)));
  }
  ASSERT_TRUE(w.AddMetadata("origin", "test").ok());
  ASSERT_TRUE(w.Open(path).ok());
  EXPECT_EQ((8 + w.header_size()) % 8, 0U);
  // Each tensor in three pieces, in file order.
  for (const std::string& name : w.tensor_order()) {
    size_t i = 0;
    while (cases[i].name != name) ++i;
    const Bytes& d = data[i];
    const size_t cut1 = d.size() / 3, cut2 = 2 * d.size() / 3;
    for (auto [b, e] :
         {std::pair{size_t{0}, cut1}, std::pair{cut1, cut2}, std::pair{cut2, d.size()}}) {
      ASSERT_TRUE(w.Write(name, std::span(d).subspan(b, e - b)).ok()) << name;
    }
  }
  ASSERT_TRUE(w.Commit().ok());

  StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->file_size(), w.file_size());
  ASSERT_EQ(file->tensors().size(), cases.size());
  uint64_t previous_end = 0;
  std::vector<const SafetensorsTensor*> by_offset;
  for (size_t i = 0; i < cases.size(); ++i) {
    const SafetensorsTensor* t = file->Find(cases[i].name);
    ASSERT_NE(t, nullptr) << cases[i].name;
    EXPECT_EQ(t->dtype, cases[i].dtype);
    EXPECT_EQ(t->shape, cases[i].shape);
    EXPECT_TRUE(Same(t->view.bytes, data[i])) << cases[i].name;
    by_offset.push_back(t);
  }
  // Packed without holes, element size never growing along the file.
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->data_begin < b->data_begin; });
  int64_t previous_size = 8;
  for (const SafetensorsTensor* t : by_offset) {
    EXPECT_EQ(t->data_begin, previous_end) << t->name;
    previous_end = t->data_end;
    const int64_t size = GetDTypeInfo(t->dtype).type_size;
    EXPECT_LE(size, previous_size) << t->name;
    previous_size = size;
  }
  EXPECT_EQ(file->metadata(), (std::vector<std::pair<std::string, std::string>>{
                                  {"format", "pt"}, {"origin", "test"}}));
  std::remove(path.c_str());
}

TEST(SafetensorsWriterTest, ShardsReadBackAsOneModel) {
  const std::string dir = TempPath("sharded");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  for (int shard = 0; shard < 2; ++shard) {
    SafetensorsWriter w;
    const std::string name = "w" + std::to_string(shard);
    ASSERT_TRUE(w.AddTensor(name, DType::kBF16, Shape{4, 4}).ok());
    ASSERT_TRUE(
        w.Open(dir + "/model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors").ok());
    ASSERT_TRUE(w.Write(name, RandomBytes(32, 7)).ok());
    ASSERT_TRUE(w.Commit().ok());
  }
  StatusOr<SafetensorsModel> model = SafetensorsModel::Open(dir);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->shards().size(), 2U);
  EXPECT_NE(model->Find("w1"), nullptr);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(SafetensorsWriterTest, RefusesBadTensorsAndIncompleteFiles) {
  SafetensorsWriter w;
  EXPECT_FALSE(w.AddTensor("", DType::kF32, Shape{1}).ok());
  EXPECT_FALSE(w.AddTensor("__metadata__", DType::kF32, Shape{1}).ok());
  const Status block = w.AddTensor("q", DType::kQ4_0, Shape{32});
  EXPECT_NE(block.message().find("no safetensors dtype"), std::string::npos) << block.ToString();
  ASSERT_TRUE(w.AddTensor("x", DType::kF32, Shape{2}).ok());
  EXPECT_NE(w.AddTensor("x", DType::kF32, Shape{2}).message().find("added twice"),
            std::string::npos);
  ASSERT_TRUE(w.AddTensor("y", DType::kF16, Shape{2}).ok());
  EXPECT_FALSE(w.Write("x", RandomBytes(8, 1)).ok());  // before Open

  const std::string path = TempPath("incomplete.safetensors");
  ASSERT_TRUE(w.Open(path).ok());
  EXPECT_FALSE(w.AddTensor("z", DType::kF32, Shape{1}).ok());  // after Open
  const Status order = w.Write("y", RandomBytes(2, 1));        // x (F32) comes first
  EXPECT_NE(order.message().find("'y' written out of order ('x' comes first"), std::string::npos)
      << order.ToString();
  EXPECT_FALSE(w.Write("x", RandomBytes(12, 1)).ok());  // past its end
  EXPECT_FALSE(w.Write("nope", RandomBytes(1, 1)).ok());
  ASSERT_TRUE(w.Write("x", RandomBytes(8, 1)).ok());
  ASSERT_TRUE(w.Write("y", RandomBytes(2, 1)).ok());
  const Status commit = w.Commit();
  EXPECT_NE(commit.message().find("tensor 'y': 2 of 4 bytes written"), std::string::npos)
      << commit.ToString();
  EXPECT_FALSE(std::ifstream(path).good());  // nothing under the final name
}

}  // namespace
}  // namespace dsinfer
