// SafetensorsFile: parsing, views, alignment and every malformed header.
#include "safetensors_test_util.h"

namespace dsinfer {
namespace {

using namespace safetensors_test;  // NOLINT(google-build-using-namespace): the test's vocabulary
using ::testing::HasSubstr;

TEST(SafetensorsFileTest, ParsesOneTensorExactly) {
  const Bytes data = RandomBytes(24, 1);
  const Bytes file = BuildFile({{"w", "F32", {2, 3}, data}});
  auto parsed = ParseBytes(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->name(), kName);
  EXPECT_EQ(parsed->file_size(), file.size());
  EXPECT_EQ(parsed->data_offset(), file.size() - 24);
  EXPECT_EQ(parsed->data_offset() % 8, 0u);
  ASSERT_EQ(parsed->tensors().size(), 1u);
  const SafetensorsTensor& t = parsed->tensors()[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.dtype, DType::kF32);
  EXPECT_EQ(t.shape, (Shape{2, 3}));
  EXPECT_EQ(t.data_begin, 0u);
  EXPECT_EQ(t.data_end, 24u);
  EXPECT_EQ(t.view.dtype, DType::kF32);
  EXPECT_EQ(t.view.shape, (Shape{2, 3}));
  EXPECT_EQ(t.view.bytes.data(), parsed->bytes().data() + parsed->data_offset());
  EXPECT_NE(parsed->keep_alive(), nullptr);
  EXPECT_TRUE(SameBytes(t.view.bytes, data));
  EXPECT_TRUE(parsed->metadata().empty());
}

TEST(SafetensorsFileTest, EverySupportedDtype) {
  const std::vector<std::pair<std::string, DType>> dtypes = {
      {"F64", DType::kF64},   {"F32", DType::kF32},        {"F16", DType::kF16},
      {"BF16", DType::kBF16}, {"F8_E4M3", DType::kF8E4M3}, {"F8_E5M2", DType::kF8E5M2},
      {"I64", DType::kI64},   {"I32", DType::kI32},        {"I16", DType::kI16},
      {"I8", DType::kI8},     {"U8", DType::kU8},          {"BOOL", DType::kBool}};
  std::vector<TensorSpec> specs;
  uint32_t seed = 10;
  for (const auto& [name, dtype] : dtypes) {
    const auto size = static_cast<size_t>(GetDTypeInfo(dtype).type_size);
    specs.push_back({"t_" + name, name, {3, 5}, RandomBytes(15 * size, seed++)});
  }
  const Bytes file = BuildFile(specs);
  auto parsed = ParseBytes(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->tensors().size(), dtypes.size());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const SafetensorsTensor* t = parsed->Find(specs[i].name);
    ASSERT_NE(t, nullptr) << specs[i].name;
    EXPECT_EQ(t->dtype, dtypes[i].second) << specs[i].name;
    // The buffer is heap-allocated (16-aligned), so file alignment is address alignment.
    const auto align = static_cast<uintptr_t>(GetDTypeInfo(t->dtype).type_size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->view.bytes.data()) % align, 0u) << specs[i].name;
    EXPECT_EQ(t->view.shape, (Shape{3, 5}));
    EXPECT_TRUE(SameBytes(t->view.bytes, specs[i].data)) << specs[i].name;
  }
}

TEST(SafetensorsFileTest, TensorsSortedByNameAndFound) {
  const Bytes file = BuildFile({{"model.norm.weight", "F32", {4}, RandomBytes(16, 2)},
                                {"lm_head.weight", "BF16", {2, 2}, RandomBytes(8, 3)},
                                {"model.embed_tokens.weight", "BF16", {2, 2}, RandomBytes(8, 4)}});
  auto parsed = ParseBytes(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  std::vector<std::string> names;
  for (const auto& t : parsed->tensors()) names.push_back(t.name);
  EXPECT_THAT(names, ::testing::ElementsAre("lm_head.weight", "model.embed_tokens.weight",
                                            "model.norm.weight"));
  ASSERT_NE(parsed->Find("model.norm.weight"), nullptr);
  EXPECT_EQ(parsed->Find("model.norm.weight")->data_begin, 0u);
  EXPECT_EQ(parsed->Find("model.embed_tokens.weight")->data_begin, 24u);
  EXPECT_EQ(parsed->Find("model.norm"), nullptr);
  EXPECT_EQ(parsed->Find(""), nullptr);
  EXPECT_EQ(parsed->Find("zzz"), nullptr);
}

TEST(SafetensorsFileTest, ReadsMetadata) {
  const Bytes file =
      BuildFile({{"a", "U8", {2}, RandomBytes(2, 5)}}, {{"format", "pt"}, {"author", "us"}});
  auto parsed = ParseBytes(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(parsed->metadata(),
              ::testing::ElementsAre(Pair("author", "us"), Pair("format", "pt")));
}

TEST(SafetensorsFileTest, ScalarsEmptyTensorsAndEmptyHeader) {
  // A rank-0 tensor has one element; [0, 4] has none, and empty ranges never overlap.
  const std::string header = R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                             R"("e1":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]},)"
                             R"("e2":{"dtype":"BF16","shape":[3,0],"data_offsets":[4,4]},)"
                             R"("e3":{"dtype":"I8","shape":[0],"data_offsets":[0,0]}})";
  const Bytes data = RandomBytes(4, 6);
  auto parsed = ParseBytes(RawFile(header, data));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Find("s")->shape.rank(), 0);
  EXPECT_TRUE(SameBytes(parsed->Find("s")->view.bytes, data));
  EXPECT_TRUE(parsed->Find("e1")->view.bytes.empty());

  auto empty = ParseBytes(RawFile("{}"));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->tensors().empty());
}

TEST(SafetensorsFileTest, AcceptsUnpaddedHeaderHolesAndTrailingBytes) {
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"__metadata__":null})";
  const Bytes data = RandomBytes(10, 7);
  auto parsed = ParseBytes(RawFile(header, data, /*pad=*/false));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->data_offset(), 8 + header.size());
  EXPECT_TRUE(SameBytes(parsed->Find("a")->view.bytes, Bytes(data.begin() + 4, data.begin() + 6)));
}

TEST(SafetensorsFileTest, MisalignedTensorNamesItsOffsetAndAlignment) {
  // The header padded to 112 bytes puts the data at file offset 120; "b" starts 1 byte in.
  std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.append(112 - header.size(), ' ');
  auto parsed = ParseBytes(RawFile(header, RandomBytes(9, 13)));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(parsed.status().message(),
            std::string(kName) +
                ": tensor 'b': data starts at file offset 121 (data_offsets begin 1), which is not "
                "a multiple of 4, the alignment F32 needs");
}

TEST(SafetensorsFileTest, UnpaddedHeaderIsFineOnlyWhileTensorsLandAligned) {
  // Unpadded headers of 53 and 55 bytes: the data section starts at file offset 61 or 63.
  const std::string u8 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  const std::string bf16 = R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})";
  const std::string bf16_hole = R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[1,3]}})";
  ASSERT_EQ(u8.size(), 53u);
  ASSERT_EQ(bf16.size(), 55u);
  EXPECT_TRUE(ParseBytes(RawFile(u8, RandomBytes(4, 14), /*pad=*/false)).ok());
  auto odd = ParseBytes(RawFile(bf16, RandomBytes(4, 14), /*pad=*/false));
  ASSERT_FALSE(odd.ok());
  EXPECT_THAT(std::string(odd.status().message()), HasSubstr("file offset 63"));
  // A hole can restore the alignment the header broke.
  auto realigned = ParseBytes(RawFile(bf16_hole, RandomBytes(4, 14), /*pad=*/false));
  EXPECT_TRUE(realigned.ok()) << realigned.status().ToString();
}

// The peak resident set size of this process, in KiB (Linux ru_maxrss).
long PeakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(SafetensorsFileTest, DeepNestingFailsFastInBoundedMemory) {
  // 10 MiB of '[': nlohmann's DOM parser would keep a pointer per level (~80 MB) even with a
  // callback that discards them; the SAX pre-pass stops at level 4.
  const size_t depth = size_t{10} << 20;
  auto owned = std::make_shared<const Bytes>(RawFile(std::string(depth, '[')));
  const long rss_before = PeakRssKib();
  const auto start = std::chrono::steady_clock::now();
  auto parsed = SafetensorsFile::Parse(*owned, kName, owned);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(parsed.status().message(), std::string(kName) + ": header nests deeper than 3 levels");
  // Only the UTF-8 check reads the whole header; generous bounds for sanitizer builds.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  EXPECT_LT(PeakRssKib() - rss_before, 32 * 1024);
}

TEST(SafetensorsFileTest, OpensFromDiskAndKeepsTheMappingAlive) {
  const std::string path = ::testing::TempDir() + "/open_test.safetensors";
  const Bytes data = RandomBytes(64, 8);
  WriteFile(path, BuildFile({{"x", "F16", {4, 8}, data}}));
  auto opened = SafetensorsFile::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SafetensorsFile moved = std::move(opened).value();  // views survive a move
  std::filesystem::remove(path);                      // and the unlink: the mapping holds it
  EXPECT_EQ(moved.name(), path);
  ASSERT_NE(moved.keep_alive(), nullptr);
  EXPECT_TRUE(SameBytes(moved.Find("x")->view.bytes, data));
}

TEST(SafetensorsFileTest, OpenMissingFileIsNotFound) {
  const std::string path = ::testing::TempDir() + "/no_such_file.safetensors";
  auto opened = SafetensorsFile::Open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr(path));
}

// Each bad input: the header text (or raw bytes), and what the message must say besides the
// file name.
struct BadCase {
  const char* label;
  Bytes bytes;
  const char* expect;
};

Bytes WithHeaderLength(uint64_t len, size_t total_size) {
  Bytes out(std::max<size_t>(total_size, 8), std::byte{' '});
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((len >> (8 * i)) & 0xFF);
  return out;
}

std::string Entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

std::vector<BadCase> BadCases() {
  const Bytes d16 = RandomBytes(16, 9);
  const auto one = [&](const std::string& entry, const Bytes& data) {
    return RawFile(R"({"t":)" + entry + "}", data);
  };
  return {
      {"empty file", {}, "shorter than the 8-byte header length"},
      {"7 bytes", Bytes(7, std::byte{0}), "shorter than the 8-byte header length"},
      {"header past end", WithHeaderLength(100, 50), "header length 100 exceeds the 42 bytes"},
      {"header over limit", WithHeaderLength((100ull << 20) + 1, 64), "100 MiB limit"},
      {"header 2^64-1", WithHeaderLength(~0ull, 64), "100 MiB limit"},
      {"not utf8", RawFile("{\"\xC3\x28\": 1}"), "not valid UTF-8"},
      {"bad json", RawFile(R"({"t": {"dtype": "F32")"), "not valid JSON"},
      {"empty header", RawFile("", {}, false), "not valid JSON"},
      {"json array", RawFile("[1,2]"), "header is not a JSON object"},
      {"json string", RawFile(R"("x")"), "header is not a JSON object"},
      {"entry not object", RawFile(R"({"t": [1, 2]})"), "tensor 't': entry is a JSON array"},
      {"missing dtype", RawFile(R"({"t": {"shape": [1], "data_offsets": [0, 4]}})"),
       "tensor 't': missing \"dtype\""},
      {"dtype not string", one(R"({"dtype":7,"shape":[1],"data_offsets":[0,4]})", d16),
       "\"dtype\" is a JSON number"},
      {"unknown dtype", one(Entry("F4", "[4]", "[0,2]"), d16), "unknown dtype 'F4'"},
      {"quantized dtype name", one(Entry("Q4_K", "[256]", "[0,144]"), d16), "unknown dtype"},
      {"missing shape", RawFile(R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})"),
       "missing \"shape\""},
      {"shape not array", one(Entry("F32", "4", "[0,16]"), d16), "\"shape\" is a JSON number"},
      {"negative dim", one(Entry("F32", "[-1,4]", "[0,16]"), d16), "shape dimension 0 is -1"},
      {"fractional dim", one(Entry("F32", "[2.5]", "[0,16]"), d16), "shape dimension 0 is 2.5"},
      {"string dim", one(Entry("F32", R"([4,"4"])", "[0,16]"), d16), "shape dimension 1"},
      {"dim over int64", one(Entry("U8", "[18446744073709551615]", "[0,16]"), d16),
       "shape dimension 0"},
      {"rank 9", one(Entry("U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]"), d16),
       "rank 9 exceeds the maximum of 8"},
      {"element overflow", one(Entry("U8", "[4294967296,4294967296]", "[0,16]"), d16),
       "more elements than fit in 64 bits"},
      {"byte overflow", one(Entry("F64", "[2305843009213693952]", "[0,16]"), d16), "overflows"},
      {"missing offsets", RawFile(R"({"t": {"dtype": "F32", "shape": [4]}})"),
       "missing \"data_offsets\""},
      {"offsets one value", one(Entry("F32", "[4]", "[16]"), d16),
       "\"data_offsets\" is [16], not two non-negative integers"},
      {"offsets three values", one(Entry("F32", "[4]", "[0,16,32]"), d16), "not two"},
      {"offsets negative", one(Entry("F32", "[4]", "[-16,0]"), d16), "not two non-negative"},
      {"offsets not array", one(Entry("F32", "[4]", "16"), d16), "not two non-negative"},
      {"offsets fractional", one(Entry("F32", "[1]", "[0,4.0]"), d16), "not two non-negative"},
      {"offsets reversed", one(Entry("U8", "[0]", "[16,8]"), d16), "end before they begin"},
      {"size mismatch", one(Entry("F32", "[4]", "[0,12]"), d16),
       "hold 12 bytes but shape [4] of F32 needs 16"},
      {"past end", one(Entry("F32", "[8]", "[0,32]"), d16),
       "extend past the end of the file (the data section has 16 bytes)"},
      {"huge offsets", one(Entry("U8", "[1]", "[18446744073709551614,18446744073709551615]"), d16),
       "extend past the end"},
      {"misaligned", one(Entry("F64", "[1]", "[4,12]"), d16),
       "tensor 't': data starts at file offset"},
      {"misaligned empty tensor", one(Entry("I16", "[0]", "[3,3]"), d16),
       "which is not a multiple of 2, the alignment I16 needs"},
      {"overlap",
       RawFile(R"({"a":)" + Entry("F32", "[2]", "[0,8]") + R"(,"b":)" +
                   Entry("F32", "[2]", "[4,12]") + "}",
               d16),
       "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
      {"same range",
       RawFile(R"({"a":)" + Entry("U8", "[4]", "[0,4]") + R"(,"b":)" + Entry("I8", "[4]", "[0,4]") +
                   "}",
               d16),
       "overlap"},
      {"contained",
       RawFile(R"({"a":)" + Entry("U8", "[16]", "[0,16]") + R"(,"b":)" +
                   Entry("I8", "[2]", "[8,10]") + R"(,"c":)" + Entry("I8", "[2]", "[12,14]") + "}",
               d16),
       "tensors 'a' [0, 16) and 'b' [8, 10) overlap"},
      {"duplicate tensor",
       RawFile(R"({"a":)" + Entry("U8", "[4]", "[0,4]") + R"(,"a":)" + Entry("U8", "[4]", "[4,8]") +
                   "}",
               d16),
       "header has the key 'a' twice"},
      {"duplicate field",
       one(R"({"dtype":"U8","shape":[4],"shape":[2],"data_offsets":[0,4]})", d16),
       "header has the key 'shape' twice"},
      {"duplicate nested field",
       one(R"({"dtype":"U8","shape":[4],"data_offsets":[0,4],"data_offsets":[0,4]})", d16),
       "header has the key 'data_offsets' twice in 't'"},
      {"too deep", one(R"({"dtype":"U8","shape":[[4]],"data_offsets":[0,4]})", d16),
       "nests deeper"},
      {"very deep", RawFile(std::string(5000, '[') + std::string(5000, ']')), "nests deeper"},
      {"metadata not object", RawFile(R"({"__metadata__": ["a"]})"),
       "__metadata__ is not a JSON object"},
      {"metadata value not string", RawFile(R"({"__metadata__": {"format": 1}})"),
       "__metadata__ value of 'format' is a JSON number, not a string"},
  };
}

TEST(SafetensorsFileTest, BadInputsFailWithTheFileAndTheProblemNamed) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.label);
    auto parsed = ParseBytes(c.bytes);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
    const std::string message(parsed.status().message());
    EXPECT_THAT(message, ::testing::StartsWith(std::string(kName) + ": "));
    EXPECT_THAT(message, HasSubstr(c.expect));
  }
}

TEST(SafetensorsFileTest, EveryTruncationOfAValidFileFailsCleanly) {
  const Bytes file = BuildFile(
      {{"a", "F32", {2, 2}, RandomBytes(16, 11)}, {"b", "BF16", {3}, RandomBytes(6, 12)}});
  for (size_t n = 0; n < file.size(); ++n) {
    const Bytes prefix(file.begin(), file.begin() + static_cast<ptrdiff_t>(n));
    auto parsed = ParseBytes(prefix);
    EXPECT_FALSE(parsed.ok()) << "prefix of " << n << " bytes";
    if (!parsed.ok()) {
      EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(kName));
    }
  }
  EXPECT_TRUE(ParseBytes(file).ok());
}

// --- the committed fixtures (made by tests/data/safetensors/make_fixtures.py) ---

std::string FixturesDir() { return std::string(DSINFER_TEST_DATA_DIR) + "/safetensors"; }

TEST(SafetensorsFixturesTest, TinyFileOpens) {
  auto file = SafetensorsFile::Open(FixturesDir() + "/tiny.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->tensors().size(), 3u);
  const SafetensorsTensor* embed = file->Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::kF32);
  EXPECT_EQ(embed->shape, (Shape{2, 3}));
  const std::vector<float> expected = {0.5f, -1.25f, 2.0f, 3.5f, -4.0f, 8.0f};
  std::vector<float> got(6);
  ASSERT_EQ(embed->view.bytes.size(), 24u);
  // Written the way the Rust writer lays files out, so the view can be read in place.
  ASSERT_EQ(reinterpret_cast<uintptr_t>(embed->view.bytes.data()) % alignof(float), 0u);
  std::memcpy(got.data(), embed->view.bytes.data(), 24);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(file->data_offset() % 8, 0u);
  const SafetensorsTensor* norm = file->Find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->dtype, DType::kBF16);
  EXPECT_TRUE(SameBytes(norm->view.bytes,
                        {std::byte{0x80}, std::byte{0x3F}, std::byte{0x00}, std::byte{0xC0},
                         std::byte{0x00}, std::byte{0x3F}, std::byte{0x40}, std::byte{0x40}}));
  const SafetensorsTensor* gate = file->Find("model.layers.0.mlp.gate.weight");
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->dtype, DType::kI8);
  EXPECT_TRUE(SameBytes(gate->view.bytes, {std::byte{1}, std::byte{0x80}, std::byte{0x7F}}));
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(file->metadata(), ::testing::ElementsAre(Pair("format", "pt")));
}

TEST(SafetensorsFixturesTest, EveryBrokenFileFailsToOpen) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(FixturesDir() + "/broken")) {
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    ++count;
    auto file = SafetensorsFile::Open(path);
    ASSERT_FALSE(file.ok());
    const std::string message(file.status().message());
    EXPECT_THAT(message, ::testing::StartsWith(path + ": "));
    EXPECT_GT(message.size(), path.size() + 10);
  }
  EXPECT_GE(count, 10);
}

// --- SafetensorsModel: single files and sharded directories ---
}  // namespace
}  // namespace dsinfer
