// GGUF reader and writer: a file written by llama.cpp's gguf-py, round trips through our
// writer, and malformed files that must fail with a message naming the problem.
#include "formats/gguf_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/gguf_json.h"
#include "formats/gguf_writer.h"

namespace dsinfer {
namespace {

using ::testing::HasSubstr;

std::string DataPath(const std::string& rel) {
  return std::string(DSINFER_TEST_DATA_DIR) + "/" + rel;
}

std::vector<std::byte> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

std::string Sha256Hex(std::span<const std::byte> bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::string hex;
  for (unsigned char c : digest) hex += fmt::format("{:02x}", c);
  return hex;
}

TEST(GgufFileTest, ReadsFileWrittenByLlamaCppGgufPy) {
  const std::string path = DataPath("gguf/llamacpp_writer.gguf");
  std::ifstream expected_in(DataPath("gguf/llamacpp_writer.expected.json"));
  const nlohmann::json expected = nlohmann::json::parse(expected_in);

  StatusOr<GgufFile> file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->version(), expected["version"]);
  EXPECT_EQ(file->file_size(), expected["file_size"]);
  EXPECT_EQ(file->alignment(), expected["alignment"]);
  EXPECT_EQ(file->data_offset(), expected["data_offset"]);
  EXPECT_EQ(file->architecture(), "llama");

  ASSERT_EQ(file->metadata().size(), expected["metadata"].size());
  for (size_t i = 0; i < file->metadata().size(); ++i) {
    const GgufKeyValue& kv = file->metadata()[i];
    const nlohmann::json& want = expected["metadata"][i];
    SCOPED_TRACE(kv.key);
    EXPECT_EQ(kv.key, want["key"]);
    EXPECT_EQ(GgufTypeName(kv.value.type()), want["type"]);
    if (const GgufArray* array = kv.value.AsArray()) {
      EXPECT_EQ(GgufTypeName(array->element_type), want["element_type"]);
      EXPECT_EQ(array->items.size(), want["length"]);
    }
    EXPECT_EQ(GgufValueToJson(kv.value), want["value"]);
  }

  ASSERT_EQ(file->tensors().size(), expected["tensors"].size());
  for (size_t i = 0; i < file->tensors().size(); ++i) {
    const GgufTensorInfo& t = file->tensors()[i];
    const nlohmann::json& want = expected["tensors"][i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, want["name"]);
    EXPECT_EQ(GetDTypeInfo(t.dtype).ggml_id, want["type_id"]);
    EXPECT_EQ(std::vector<int64_t>(t.dims().begin(), t.dims().end()),
              want["ne"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.offset, want["offset"]);
    EXPECT_EQ(t.n_bytes, want["n_bytes"]);
    EXPECT_EQ(t.num_elements(), want["n_elements"]);
    EXPECT_EQ(Sha256Hex(t.view.bytes), want["sha256"]);
  }
  const GgufTensorInfo* embd = file->FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->view.shape, (Shape{16, 64}));  // HF order: [vocab, hidden]
  EXPECT_EQ(file->FindTensor("missing"), nullptr);
  EXPECT_EQ(file->GetUint("llama.embedding_length"), 64u);
  EXPECT_EQ(file->GetString("tokenizer.ggml.model"), "gpt2");
}

TEST(GgufFileTest, RewritingLlamaCppFileIsByteIdentical) {
  const std::string path = DataPath("gguf/llamacpp_writer.gguf");
  const std::vector<std::byte> original = ReadBytes(path);
  StatusOr<GgufFile> file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  GgufWriter writer;
  ASSERT_TRUE(writer.AddAllFrom(*file).ok());
  EXPECT_TRUE(*writer.WriteToBuffer() == original);
}

GgufArray IntArray(std::initializer_list<int32_t> values) {
  GgufArray a{.element_type = GgufType::kInt32, .items = {}};
  for (int32_t v : values) a.items.push_back(GgufValue::I32(v));
  return a;
}

TEST(GgufWriterTest, EveryValueTypeAndTensorRoundTrips) {
  GgufWriter writer;
  std::vector<GgufKeyValue> kvs = {
      {"general.architecture", GgufValue::String("deepseek2")},
      {"general.alignment", GgufValue::U32(64)},
      {"t.u8", GgufValue::U8(255)},
      {"t.i8", GgufValue::I8(-128)},
      {"t.u16", GgufValue::U16(65535)},
      {"t.i16", GgufValue::I16(-32768)},
      {"t.u32", GgufValue::U32(4000000000u)},
      {"t.i32", GgufValue::I32(-2000000000)},
      {"t.f32", GgufValue::F32(0.1f)},
      {"t.bool", GgufValue::Bool(true)},
      {"t.str", GgufValue::String("<｜end▁of▁sentence｜>")},
      {"t.empty", GgufValue::String("")},
      {"t.u64", GgufValue::U64(UINT64_MAX)},
      {"t.i64", GgufValue::I64(INT64_MIN)},
      {"t.f64", GgufValue::F64(-0.0)},
      {"t.strs", GgufValue::StringArray({"a", "", "Ġhello"})},
      {"t.nested", GgufValue::Array({.element_type = GgufType::kArray,
                                     .items = {GgufValue::Array(IntArray({1, 2})),
                                               GgufValue::Array(IntArray({}))}})},
  };
  for (const auto& kv : kvs) ASSERT_TRUE(writer.AddKeyValue(kv.key, kv.value).ok()) << kv.key;

  std::vector<std::byte> f32(60), q8(204), q4k(288);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = std::byte(i * 7);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = std::byte(i * 13 + 1);
  const int64_t ne_f32[] = {5, 3};
  const int64_t ne_q8[] = {64, 3};
  const int64_t ne_q4k[] = {256, 1, 2};
  ASSERT_TRUE(writer.AddTensor("a.weight", DType::kF32, ne_f32, f32).ok());
  ASSERT_TRUE(writer.AddTensor("b.weight", DType::kQ8_0, ne_q8, q8).ok());
  ASSERT_TRUE(writer.AddTensorOwned("c.weight", DType::kQ4_K, ne_q4k, q4k).ok());
  const std::vector<std::byte> bytes = *writer.WriteToBuffer();

  StatusOr<GgufFile> file = GgufFile::Parse(bytes, "mem.gguf", nullptr);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  ASSERT_EQ(file->metadata().size(), kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(file->metadata()[i].key, kvs[i].key);
    EXPECT_TRUE(file->metadata()[i].value == kvs[i].value) << kvs[i].key;
  }
  ASSERT_EQ(file->tensors().size(), 3u);
  const GgufTensorInfo& b = file->tensors()[1];
  EXPECT_EQ(b.dtype, DType::kQ8_0);
  EXPECT_EQ(b.offset, 64u);  // 60 bytes of f32 padded to 64
  EXPECT_EQ(b.view.shape, (Shape{3, 64}));
  EXPECT_EQ(b.view.num_rows(), 3);
  EXPECT_EQ(b.view.row_bytes(), 68);
  EXPECT_TRUE(std::equal(b.view.bytes.begin(), b.view.bytes.end(), q8.begin(), q8.end()));
  EXPECT_EQ(file->tensors()[2].view.shape, (Shape{2, 1, 256}));
  EXPECT_EQ(file->total_parameters(), 15u + 192u + 512u);

  // And the same bytes again when re-written.
  GgufWriter again;
  ASSERT_TRUE(again.AddAllFrom(*file).ok());
  EXPECT_TRUE(*again.WriteToBuffer() == bytes);
}

TEST(GgufWriterTest, RejectsInconsistentInput) {
  GgufWriter writer;
  ASSERT_TRUE(writer.AddKeyValue("k", GgufValue::U8(1)).ok());
  EXPECT_EQ(writer.AddKeyValue("k", GgufValue::U8(2)).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(writer.AddKeyValue("general.alignment", GgufValue::U32(48)).ok());
  GgufArray mixed{.element_type = GgufType::kInt32, .items = {GgufValue::U8(1)}};
  EXPECT_FALSE(writer.AddKeyValue("m", GgufValue::Array(mixed)).ok());
  std::vector<std::byte> data(10);
  const int64_t ne[] = {3};
  EXPECT_THAT(writer.AddTensor("t", DType::kF32, ne, data).message(), HasSubstr("needs 12 bytes"));
  const int64_t ne_q[] = {33};
  EXPECT_THAT(writer.AddTensor("q", DType::kQ8_0, ne_q, data).message(),
              HasSubstr("not a multiple"));
}

TEST(GgufWriterTest, StreamedTensorsShareTheLayoutOfBufferedOnes) {
  std::vector<std::byte> a(40, std::byte{1}), b(6, std::byte{2});
  const int64_t ne_a[] = {10};
  const int64_t ne_b[] = {3};
  GgufWriter buffered, streamed;
  for (GgufWriter* w : {&buffered, &streamed}) {
    ASSERT_TRUE(w->AddKeyValue("general.architecture", GgufValue::String("llama")).ok());
  }
  ASSERT_TRUE(buffered.AddTensor("a", DType::kF32, ne_a, a).ok());
  ASSERT_TRUE(buffered.AddTensor("b", DType::kF16, ne_b, b).ok());
  ASSERT_TRUE(streamed.AddTensorInfo("a", DType::kF32, ne_a).ok());
  ASSERT_TRUE(streamed.AddTensorInfo("b", DType::kF16, ne_b).ok());
  EXPECT_EQ(streamed.WriteToBuffer().status().code(), StatusCode::kFailedPrecondition);

  // Header, then each tensor padded to the alignment: the bytes a buffered writer produces.
  std::vector<std::byte> file = streamed.SerializeHeader();
  EXPECT_EQ(file.size() % 32, 0u);
  EXPECT_EQ(streamed.DataSectionSize(), 64u + 32u);
  file.insert(file.end(), a.begin(), a.end());
  file.resize(file.size() + 24);
  file.insert(file.end(), b.begin(), b.end());
  file.resize(file.size() + 26);
  EXPECT_TRUE(file == *buffered.WriteToBuffer());
}

// ---- malformed files ----

// Builds GGUF bytes field by field so each test can break exactly one thing.
class RawGguf {
 public:
  RawGguf& U32(uint32_t v) { return Put(&v, 4); }
  RawGguf& U64(uint64_t v) { return Put(&v, 8); }
  RawGguf& I64(int64_t v) { return Put(&v, 8); }
  RawGguf& U8(uint8_t v) { return Put(&v, 1); }
  RawGguf& Str(std::string_view s) {
    U64(s.size());
    return Put(s.data(), s.size());
  }
  RawGguf& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return U32(kGgufMagic).U32(version).U64(n_tensors).U64(n_kv);
  }
  RawGguf& PadTo(size_t alignment) {
    while (bytes.size() % alignment != 0) U8(0);
    return *this;
  }
  RawGguf& Zeros(size_t n) {
    bytes.insert(bytes.end(), n, std::byte{0});
    return *this;
  }
  RawGguf& Put(const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
  std::vector<std::byte> bytes;
};

std::string ParseError(const std::vector<std::byte>& bytes) {
  StatusOr<GgufFile> file = GgufFile::Parse(bytes, "bad.gguf", nullptr);
  if (file.ok()) return "parsed OK";
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("bad.gguf: "));
  return std::string(file.status().message());
}

// One F32 tensor named `name` with ne {4}, at `offset`.
RawGguf& TensorInfo(RawGguf& g, std::string_view name, uint64_t offset, uint32_t type = 0,
                    int64_t ne0 = 4) {
  return g.Str(name).U32(1).I64(ne0).U32(type).U64(offset);
}

TEST(GgufMalformedTest, EmptyAndWrongMagic) {
  EXPECT_THAT(ParseError({}), HasSubstr("too short"));
  RawGguf g;
  g.Put("GGML", 4).U32(3).U64(0).U64(0);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("not a GGUF file: magic is 47 47 4d 4c"));
}

TEST(GgufMalformedTest, UnsupportedVersions) {
  RawGguf v1, v9, big;
  v1.Header(0, 0, 1);
  v9.Header(0, 0, 9);
  big.Header(0, 0, 0x03000000);
  EXPECT_THAT(ParseError(v1.bytes), HasSubstr("version 1"));
  EXPECT_THAT(ParseError(v9.bytes), HasSubstr("unsupported GGUF version 9"));
  EXPECT_THAT(ParseError(big.bytes), HasSubstr("big-endian"));
}

TEST(GgufMalformedTest, TruncatedHeader) {
  RawGguf g;
  g.U32(kGgufMagic).U32(3).U64(0);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("truncated while reading metadata count"));
}

TEST(GgufMalformedTest, AbsurdCountsFailBeforeAllocating) {
  RawGguf kv, tensors;
  kv.Header(0, UINT64_MAX / 2);
  tensors.Header(1ULL << 60, 0);
  EXPECT_THAT(ParseError(kv.bytes), HasSubstr("metadata count"));
  EXPECT_THAT(ParseError(tensors.bytes), HasSubstr("tensor count"));
}

TEST(GgufMalformedTest, StringLongerThanFile) {
  RawGguf g;
  g.Header(0, 1).U64(1ULL << 62).Put("abc", 3).Zeros(16);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("metadata key #0 claims 4611686018427387904 bytes"));
}

TEST(GgufMalformedTest, InvalidUtf8AndDuplicateKeys) {
  RawGguf bad_utf8, dup;
  bad_utf8.Header(0, 1).Str("general.\xff\xfe").U32(4).U32(1);
  dup.Header(0, 2).Str("a").U32(4).U32(1).Str("a").U32(4).U32(2);
  EXPECT_THAT(ParseError(bad_utf8.bytes), HasSubstr("not valid UTF-8: 'general.\\xff\\xfe'"));
  EXPECT_THAT(ParseError(dup.bytes), HasSubstr("duplicate metadata key 'a'"));
}

TEST(GgufMalformedTest, BadValueTypes) {
  RawGguf type, elem, boolean;
  type.Header(0, 1).Str("k").U32(13).U32(0);
  elem.Header(0, 1).Str("k").U32(9).U32(77).U64(1);
  boolean.Header(0, 1).Str("k").U32(7).U8(2);
  EXPECT_THAT(ParseError(type.bytes), HasSubstr("key 'k': unknown value type 13"));
  EXPECT_THAT(ParseError(elem.bytes), HasSubstr("unknown array element type 77"));
  EXPECT_THAT(ParseError(boolean.bytes), HasSubstr("bool value 2"));
}

TEST(GgufMalformedTest, HugeArrayCountFailsBeforeAllocating) {
  RawGguf g;
  g.Header(0, 1).Str("tokens").U32(9).U32(8).U64(1ULL << 40).Zeros(64);
  EXPECT_THAT(ParseError(g.bytes),
              HasSubstr("array of 1099511627776 STRING elements does not fit"));
}

TEST(GgufMalformedTest, DeeplyNestedArrays) {
  RawGguf g;
  g.Header(0, 1).Str("deep").U32(9);
  for (int i = 0; i < 100; ++i) g.U32(9).U64(1);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("nested deeper"));
}

TEST(GgufMalformedTest, BadAlignment) {
  RawGguf g;
  g.Header(0, 1).Str("general.alignment").U32(4).U32(24);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("general.alignment = 24 is not a power of two"));
}

TEST(GgufMalformedTest, TensorDimsAndTypes) {
  RawGguf dims, negative, type, block;
  dims.Header(1, 0).Str("t").U32(5).Zeros(64);
  negative.Header(1, 0).Str("t").U32(1).I64(-4).U32(0).U64(0);
  type.Header(1, 0);
  TensorInfo(type, "t", 0, /*type=*/4);
  block.Header(1, 0);
  TensorInfo(block, "t", 0, /*type=*/8, /*ne0=*/33);
  EXPECT_THAT(ParseError(dims.bytes), HasSubstr("tensor 't' has 5 dimensions"));
  EXPECT_THAT(ParseError(negative.bytes), HasSubstr("negative dimension ne[0] = -4"));
  EXPECT_THAT(ParseError(type.bytes), HasSubstr("unknown ggml type 4"));
  EXPECT_THAT(ParseError(block.bytes), HasSubstr("not a multiple of q8_0's block of 32"));
}

TEST(GgufMalformedTest, ShapeOverflow) {
  RawGguf g;
  g.Header(1, 0).Str("t").U32(3).I64(1LL << 40).I64(1LL << 40).I64(1LL << 40).U32(0).U64(0);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("overflows"));
}

TEST(GgufMalformedTest, TensorOffsets) {
  RawGguf misaligned, past_end, overlap, duplicate;
  misaligned.Header(1, 0);
  TensorInfo(misaligned, "t", 4).PadTo(32).Zeros(64);
  past_end.Header(1, 0);
  TensorInfo(past_end, "t", 32).PadTo(32).Zeros(32);
  overlap.Header(2, 0);
  TensorInfo(overlap, "a", 0, 0, 16);
  TensorInfo(overlap, "b", 32, 0, 16).PadTo(32).Zeros(128);
  duplicate.Header(2, 0);
  TensorInfo(duplicate, "a", 0);
  TensorInfo(duplicate, "a", 32).PadTo(32).Zeros(64);
  EXPECT_THAT(ParseError(misaligned.bytes),
              HasSubstr("offset 4 is not a multiple of the alignment 32"));
  EXPECT_THAT(ParseError(past_end.bytes),
              HasSubstr("tensor 't' (16 bytes at data offset 32) extends past the end"));
  EXPECT_THAT(ParseError(overlap.bytes), HasSubstr("tensors 'a' and 'b' overlap"));
  EXPECT_THAT(ParseError(duplicate.bytes), HasSubstr("duplicate tensor name 'a'"));
}

TEST(GgufMalformedTest, EmptyTensorCannotHideAnOverlap) {
  // a = [0, 96), e is empty at 32, c = [64, 96): a and c overlap although no two neighbours
  // in offset order do.
  RawGguf g;
  g.Header(3, 0);
  TensorInfo(g, "a", 0, 0, 24);
  TensorInfo(g, "e", 32, 0, 0);
  TensorInfo(g, "c", 64, 0, 8).PadTo(32).Zeros(128);
  EXPECT_THAT(ParseError(g.bytes), HasSubstr("tensors 'a' and 'c' overlap"));
}

TEST(GgufMalformedTest, MetadataArraysCannotDemandHugeMemory) {
  // 16 Mi one-byte elements would need ~640 MB as values: refused before allocating.
  RawGguf g;
  g.Header(0, 1).Str("big").U32(9).U32(0).U64(1ULL << 24).Zeros(1 << 24);
  const StatusOr<GgufFile> file = GgufFile::Parse(g.bytes, "big.gguf", nullptr);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("more than 8388608 elements"));
}

TEST(GgufFileTest, Version2FilesParseAndRewriteByteIdentically) {
  GgufWriter v2(2);
  ASSERT_TRUE(v2.AddKeyValue("general.architecture", GgufValue::String("llama")).ok());
  std::vector<std::byte> data(16, std::byte{3});
  const int64_t ne[] = {4};
  ASSERT_TRUE(v2.AddTensor("t.weight", DType::kF32, ne, data).ok());
  const std::vector<std::byte> bytes = *v2.WriteToBuffer();
  StatusOr<GgufFile> file = GgufFile::Parse(bytes, "v2.gguf", nullptr);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->version(), 2u);
  GgufWriter again;
  ASSERT_TRUE(again.AddAllFrom(*file).ok());
  EXPECT_TRUE(*again.WriteToBuffer() == bytes);
  EXPECT_FALSE(again.AddAllFrom(*file).ok()) << "a second copy into a non-empty writer";
}

TEST(GgufWriterTest, RefusesWhatLlamaCppWouldRefuse) {
  GgufWriter w;
  EXPECT_THAT(w.AddKeyValue("general.alignment", GgufValue::U64(64)).message(),
              HasSubstr("UINT32 power of two"));
  EXPECT_FALSE(w.AddKeyValue("general.alignment", GgufValue::U32(1U << 31)).ok());
  EXPECT_TRUE(w.AddKeyValue("general.alignment", GgufValue::U32(64)).ok());
  std::vector<std::byte> data(4);
  const int64_t ne[] = {1};
  EXPECT_THAT(w.AddTensor(std::string(64, 'x'), DType::kF32, ne, data).message(),
              HasSubstr("llama.cpp allows 63"));
  EXPECT_TRUE(w.AddTensor(std::string(63, 'x'), DType::kF32, ne, data).ok());
}

TEST(GgufMalformedTest, EveryTruncationOfAValidFileFailsCleanly) {
  const std::vector<std::byte> good = ReadBytes(DataPath("gguf/llamacpp_writer.gguf"));
  StatusOr<GgufFile> whole = GgufFile::Parse(good, "good.gguf", nullptr);
  ASSERT_TRUE(whole.ok());
  // The last tensor ends 20 bytes before the file does (trailing padding), so cuts inside that
  // padding still parse; every shorter cut must fail.
  const size_t last_end =
      whole->data_offset() + whole->tensors().back().offset + whole->tensors().back().n_bytes;
  for (size_t n = 0; n < last_end; n += (n < whole->data_offset() ? 1 : 97)) {
    const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_FALSE(GgufFile::Parse(cut, "cut.gguf", nullptr).ok()) << "cut at " << n;
  }
}

TEST(GgufMalformedTest, MissingFileIsNotFound) {
  StatusOr<GgufFile> file = GgufFile::Open("/nonexistent/model.gguf");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("/nonexistent/model.gguf"));
}

}  // namespace
}  // namespace dsinfer
