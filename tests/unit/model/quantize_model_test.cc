// `dsinfer quantize` as a library: random tiny models rewritten in other types keep their
// metadata (file_type set), names, shapes and order; every converted tensor's bytes equal
// quant/'s quantisation of the source values (bit-exact), unchanged tensors are byte copies,
// fallbacks and rules apply, and bad inputs or outputs are errors that leave no file behind.
#include "model/quantize_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "formats/llama_file_type.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model/tensor_storage_type.h"
#include "model_test_util.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

using testing::TempPath;

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

void WriteModel(const ModelConfig& config, DType dtype, const std::string& path) {
  const StatusOr<RandomModelSummary> summary =
      WriteRandomGguf(config, {.dtype = dtype, .seed = 11}, path);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
}

std::vector<std::byte> Bytes(const GgufTensorInfo& t) {
  return {t.view.bytes.begin(), t.view.bytes.end()};
}

// What quant/ makes of `t`'s values in type `to`: dequantise every row, quantise again.
std::vector<std::byte> QuantizeDirectly(const GgufTensorInfo& t, DType to) {
  std::vector<float> values(static_cast<size_t>(t.num_elements()));
  EXPECT_TRUE(DequantizeRows(t.dtype, t.view.bytes, t.ne[0], values).ok());
  const int64_t rows = t.num_elements() / t.ne[0];
  std::vector<std::byte> out(static_cast<size_t>(rows * *RowBytes(to, t.ne[0])));
  EXPECT_TRUE(QuantizeRows(to, values, t.ne[0], out).ok());
  return out;
}

// OUT against IN: keys and values in order (file_type and quantization_version set), tensors
// in order with the same shapes, each in `expected_types[i]` with quant/'s exact bytes.
void ExpectRequantized(const GgufFile& in, const GgufFile& out, uint32_t file_type,
                       const std::vector<DType>& expected_types) {
  ASSERT_EQ(out.metadata().size(), in.metadata().size());
  for (size_t i = 0; i < in.metadata().size(); ++i) {
    const GgufKeyValue& a = in.metadata()[i];
    const GgufKeyValue& b = out.metadata()[i];
    EXPECT_EQ(a.key, b.key);
    if (a.key == gguf::kKeyFileType) {
      EXPECT_EQ(b.value, GgufValue::U32(file_type));
    } else if (a.key == gguf::kKeyQuantizationVersion) {
      EXPECT_EQ(b.value, GgufValue::U32(2));
    } else {
      EXPECT_EQ(a.value, b.value) << a.key;
    }
  }
  ASSERT_EQ(out.tensors().size(), in.tensors().size());
  ASSERT_EQ(expected_types.size(), in.tensors().size());
  for (size_t i = 0; i < in.tensors().size(); ++i) {
    const GgufTensorInfo& a = in.tensors()[i];
    const GgufTensorInfo& b = out.tensors()[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.ne, b.ne);
    EXPECT_EQ(a.n_dims, b.n_dims);
    EXPECT_EQ(b.dtype, expected_types[i]);
    if (b.dtype == a.dtype) {
      EXPECT_TRUE(Bytes(a) == Bytes(b)) << "copied tensor changed";
    } else {
      EXPECT_TRUE(QuantizeDirectly(a, b.dtype) == Bytes(b)) << "not quant/'s bytes";
    }
    if (a.n_dims == 1) {
      EXPECT_EQ(b.dtype, DType::kF32);
    }
  }
}

// Types the layout's specs get in type `requested` (tensor_storage_type.h), with 1-D and
// other non-matrix tensors keeping `source` F32.
std::vector<DType> StorageTypes(const ModelConfig& config, DType requested) {
  std::vector<DType> types;
  for (const TensorSpec& spec : BuildTensorLayout(config)) {
    types.push_back(StorageTypeFor(spec, requested));
  }
  return types;
}

TEST(QuantizeModelTest, F32ModelsRequantizeBitExactlyInEachType) {
  ThreadPool pool(3);
  for (const char* preset : {"tiny-llama", "tiny-qwen2", "tiny-deepseek2"}) {
    const ModelConfig config = *ModelPreset(preset);
    TempPath in("rq_in.gguf");
    WriteModel(config, DType::kF32, in.path());
    for (DType type : {DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
      SCOPED_TRACE(std::string(preset) + " -> " + std::string(DTypeName(type)));
      TempPath out("rq_out.gguf");
      int64_t reported = 0;
      const QuantizeOptions options{.types = {.requested = type},
                                    .on_tensor = [&](const QuantizedTensor& t) {
                                      EXPECT_EQ(t.index, static_cast<size_t>(reported));
                                      ++reported;
                                    }};
      const StatusOr<QuantizeSummary> summary = QuantizeGguf(in.path(), out.path(), options, &pool);
      ASSERT_TRUE(summary.ok()) << summary.status().ToString();
      StatusOr<GgufFile> a = GgufFile::Open(in.path());
      StatusOr<GgufFile> b = GgufFile::Open(out.path());
      ASSERT_TRUE(a.ok() && b.ok());
      ExpectRequantized(*a, *b, LlamaFileType(type), StorageTypes(config, type));
      EXPECT_EQ(summary->tensors, static_cast<int64_t>(a->tensors().size()));
      EXPECT_EQ(reported, summary->tensors);
      EXPECT_EQ(summary->converted + summary->copied, summary->tensors);
      EXPECT_GT(summary->converted, 0);
      EXPECT_GT(summary->copied, 0);  // the norms
      EXPECT_EQ(summary->file_bytes, b->file_size());
      EXPECT_EQ(summary->tensor_bytes_in, a->total_tensor_bytes());
      EXPECT_EQ(summary->parameters, static_cast<int64_t>(a->total_parameters()));
      EXPECT_FALSE(Exists(out.path() + ".tmp"));
    }
  }
}

TEST(QuantizeModelTest, RowsTheTypeCannotHoldFallBackAsLlamaCppDoes) {
  // tiny-deepseek2: hidden 64 (q4_K needs 256: q5_0), attn_k_b rows of 16 (f16).
  const ModelConfig config = *ModelPreset("tiny-deepseek2");
  TempPath in("fb_in.gguf"), out("fb_out.gguf");
  WriteModel(config, DType::kF32, in.path());
  std::vector<std::string> fell_back;
  const QuantizeOptions options{.types = {.requested = DType::kQ4_K},
                                .on_tensor = [&](const QuantizedTensor& t) {
                                  if (t.choice.weight_matrix && t.choice.fell_back()) {
                                    EXPECT_EQ(t.choice.wanted, DType::kQ4_K);
                                    fell_back.emplace_back(t.name);
                                  }
                                }};
  const StatusOr<QuantizeSummary> summary = QuantizeGguf(in.path(), out.path(), options, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->fell_back, static_cast<int64_t>(fell_back.size()));
  const GgufFile file = GgufFile::Open(out.path()).value();
  EXPECT_EQ(file.FindTensor("token_embd.weight")->dtype, DType::kQ5_0);
  EXPECT_EQ(file.FindTensor("blk.0.attn_k_b.weight")->dtype, DType::kF16);
  EXPECT_EQ(file.FindTensor("blk.0.ffn_down.weight")->dtype, DType::kQ5_0);  // rows of 128
  EXPECT_EQ(file.FindTensor("blk.1.ffn_gate_inp.weight")->dtype, DType::kF32);
  EXPECT_EQ(file.FindTensor("blk.1.exp_probs_b.bias")->dtype, DType::kF32);
  EXPECT_EQ(*file.GetUint(gguf::kKeyFileType), 14U);  // Q4_K_S
  EXPECT_NE(std::find(fell_back.begin(), fell_back.end(), "blk.0.attn_k_b.weight"),
            fell_back.end());
}

TEST(QuantizeModelTest, PureWritesOnlyTheTypeOrRefusesNamingTheTensor) {
  // Rows of 256 and 512 everywhere: q4_K holds every matrix.
  ModelConfig wide = *ModelPreset("tiny-llama");
  wide.hidden_size = 256;
  wide.head_dim = 64;
  wide.intermediate_size = 512;
  TempPath in("pure_in.gguf"), out("pure_out.gguf");
  WriteModel(wide, DType::kF32, in.path());
  const QuantizeOptions pure{.types = {.requested = DType::kQ4_K, .pure = true}};
  StatusOr<QuantizeSummary> summary = QuantizeGguf(in.path(), out.path(), pure, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->fell_back, 0);
  const GgufFile file = GgufFile::Open(out.path()).value();
  for (const GgufTensorInfo& t : file.tensors()) {
    EXPECT_EQ(t.dtype, t.n_dims == 1 ? DType::kF32 : DType::kQ4_K) << t.name;
  }

  // tiny-llama's rows of 64 cannot be q4_K: an error naming the first such tensor, no file.
  TempPath narrow_in("pure_narrow.gguf"), narrow_out("pure_narrow_out.gguf");
  WriteModel(*ModelPreset("tiny-llama"), DType::kF32, narrow_in.path());
  summary = QuantizeGguf(narrow_in.path(), narrow_out.path(), pure, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.status().message().find("tensor token_embd.weight: rows of 64 elements "
                                            "cannot be stored in q4_K"),
            std::string_view::npos)
      << summary.status().message();
  EXPECT_FALSE(Exists(narrow_out.path()));
  EXPECT_FALSE(Exists(narrow_out.path() + ".tmp"));
}

TEST(QuantizeModelTest, KeepRulesChooseTypesAndLeaveNormsAlone) {
  const ModelConfig config = *ModelPreset("tiny-deepseek2");
  TempPath in("keep_in.gguf"), out("keep_out.gguf");
  WriteModel(config, DType::kF32, in.path());
  const QuantizeOptions options{.types = {.requested = DType::kQ4_K,
                                          .rules = {{DType::kQ8_0, "attn_kv_a"},
                                                    {DType::kF16, "attn"},
                                                    {DType::kBF16, "^token_embd."}}}};
  ASSERT_TRUE(QuantizeGguf(in.path(), out.path(), options, nullptr).ok());
  const GgufFile a = GgufFile::Open(in.path()).value();
  const GgufFile b = GgufFile::Open(out.path()).value();
  EXPECT_EQ(b.FindTensor("blk.0.attn_kv_a_mqa.weight")->dtype, DType::kQ8_0);
  EXPECT_EQ(b.FindTensor("blk.0.attn_q_a.weight")->dtype, DType::kF16);
  EXPECT_EQ(b.FindTensor("blk.0.attn_output.weight")->dtype, DType::kF16);
  EXPECT_EQ(b.FindTensor("blk.0.attn_kv_a_norm.weight")->dtype, DType::kF32);  // a norm
  EXPECT_EQ(b.FindTensor("token_embd.weight")->dtype, DType::kBF16);
  EXPECT_EQ(b.FindTensor("output.weight")->dtype, DType::kQ5_0);  // no rule: q4_K's fallback
  EXPECT_EQ(b.FindTensor("blk.1.ffn_up_exps.weight")->dtype, DType::kQ5_0);
  std::vector<DType> types;
  for (const GgufTensorInfo& t : b.tensors()) types.push_back(t.dtype);
  ExpectRequantized(a, b, LlamaFileType(DType::kQ4_K), types);  // every byte as quant/ writes it
}

// Q4_K_M on a model with 8 experts and rows of 256 (llama-quantize's choice, checked against
// its --dry-run): the output Q6_K, attn_output Q5_K (8 experts), ffn_down Q6_K in the last of
// 3 layers; general.file_type 15; every byte as quant/ writes it.
TEST(QuantizeModelTest, MixturesFollowLlamaCppAndSetTheirFileType) {
  const ModelConfig config = *ModelPreset("tiny-r1");
  TempPath in("mix_in.gguf"), out("mix_out.gguf");
  WriteModel(config, DType::kF32, in.path());
  const QuantizeOptions options{
      .types = {.requested = DType::kQ4_K, .mixture = QuantMixture::kQ4_K_M}};
  ASSERT_TRUE(QuantizeGguf(in.path(), out.path(), options, nullptr).ok());
  const GgufFile a = GgufFile::Open(in.path()).value();
  const GgufFile b = GgufFile::Open(out.path()).value();
  EXPECT_EQ(b.FindTensor("output.weight")->dtype, DType::kQ6_K);
  EXPECT_EQ(b.FindTensor("token_embd.weight")->dtype, DType::kQ4_K);
  EXPECT_EQ(b.FindTensor("blk.1.attn_output.weight")->dtype, DType::kQ5_K);
  EXPECT_EQ(b.FindTensor("blk.0.ffn_down.weight")->dtype, DType::kQ4_K);
  EXPECT_EQ(b.FindTensor("blk.1.ffn_down_exps.weight")->dtype, DType::kQ4_K);
  EXPECT_EQ(b.FindTensor("blk.2.ffn_down_exps.weight")->dtype, DType::kQ6_K);
  EXPECT_EQ(b.FindTensor("blk.2.ffn_down_shexp.weight")->dtype, DType::kQ6_K);
  EXPECT_EQ(b.FindTensor("blk.2.attn_k_b.weight")->dtype, DType::kQ5_0);  // rows of 64
  std::vector<DType> types;
  for (const GgufTensorInfo& t : b.tensors()) types.push_back(t.dtype);
  ExpectRequantized(a, b, 15, types);
}

TEST(QuantizeModelTest, QuantizedInputsRequantizeAndSameTypeIsCopied) {
  const ModelConfig config = *ModelPreset("tiny-llama");
  for (DType source : {DType::kQ8_0, DType::kF16, DType::kBF16, DType::kQ4_K}) {
    SCOPED_TRACE(DTypeName(source));
    TempPath in("src_in.gguf"), out("src_out.gguf");
    WriteModel(config, source, in.path());
    ASSERT_TRUE(
        QuantizeGguf(in.path(), out.path(), {.types = {.requested = DType::kQ4_K}}, nullptr).ok());
    const GgufFile a = GgufFile::Open(in.path()).value();
    const GgufFile b = GgufFile::Open(out.path()).value();
    ExpectRequantized(a, b, LlamaFileType(DType::kQ4_K), StorageTypes(config, DType::kQ4_K));
  }
}

TEST(QuantizeModelTest, ThreadCountDoesNotChangeTheFile) {
  const ModelConfig config = *ModelPreset("tiny-deepseek");
  TempPath in("thr_in.gguf"), one("thr_1.gguf"), many("thr_n.gguf"), none("thr_0.gguf");
  WriteModel(config, DType::kF32, in.path());
  ThreadPool pool1(1), pool4(4);
  const QuantizeOptions options{.types = {.requested = DType::kQ6_K}};
  ASSERT_TRUE(QuantizeGguf(in.path(), one.path(), options, &pool1).ok());
  ASSERT_TRUE(QuantizeGguf(in.path(), many.path(), options, &pool4).ok());
  ASSERT_TRUE(QuantizeGguf(in.path(), none.path(), options, nullptr).ok());
  const std::vector<char> bytes = ReadAll(one.path());
  EXPECT_FALSE(bytes.empty());
  EXPECT_TRUE(bytes == ReadAll(many.path()));
  EXPECT_TRUE(bytes == ReadAll(none.path()));
}

TEST(QuantizeModelTest, TruncatedInputIsAClearErrorAndWritesNothing) {
  TempPath in("trunc_in.gguf"), out("trunc_out.gguf");
  WriteModel(*ModelPreset("tiny-llama"), DType::kF32, in.path());
  const auto size = std::filesystem::file_size(in.path());
  std::filesystem::resize_file(in.path(), size - 100);
  const StatusOr<QuantizeSummary> summary =
      QuantizeGguf(in.path(), out.path(), {.types = {.requested = DType::kQ8_0}}, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(summary.status().message().find("output.weight"), std::string_view::npos)
      << summary.status().message();  // the last tensor no longer fits
  EXPECT_FALSE(Exists(out.path()));
  EXPECT_FALSE(Exists(out.path() + ".tmp"));

  TempPath missing("missing.gguf");
  EXPECT_EQ(QuantizeGguf(missing.path(), out.path(), {}, nullptr).status().code(),
            StatusCode::kNotFound);
}

TEST(QuantizeModelTest, RefusesToWriteOverTheInput) {
  TempPath in("self.gguf");
  WriteModel(*ModelPreset("tiny-llama"), DType::kF32, in.path());
  const std::vector<char> before = ReadAll(in.path());
  const QuantizeOptions options{.types = {.requested = DType::kQ8_0}};
  const std::filesystem::path p(in.path());
  const std::string other_spelling = (p.parent_path() / "." / p.filename()).string();
  for (const std::string& out : {in.path(), other_spelling}) {
    const StatusOr<QuantizeSummary> summary = QuantizeGguf(in.path(), out, options, nullptr);
    ASSERT_FALSE(summary.ok()) << out;
    EXPECT_NE(summary.status().message().find("is the input file"), std::string_view::npos);
  }
  // OUT.tmp would be the input: refused too.
  TempPath tmp_in("self_tmp.gguf.tmp");
  WriteModel(*ModelPreset("tiny-llama"), DType::kF32, tmp_in.path());
  const std::string out = tmp_in.path().substr(0, tmp_in.path().size() - 4);
  const StatusOr<QuantizeSummary> summary = QuantizeGguf(tmp_in.path(), out, options, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.status().message().find("which is the input file"), std::string_view::npos);
  EXPECT_TRUE(ReadAll(in.path()) == before);
  EXPECT_FALSE(Exists(out));
}

// A hand-written file: no file_type key, 64-byte alignment, a NaN in a matrix.
TEST(QuantizeModelTest, NonFiniteValuesAreAnErrorNamingTensorAndRow) {
  std::vector<float> values(size_t{64} * 8);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i)) * 0.1F;
  GgufWriter writer;
  ASSERT_TRUE(writer.AddKeyValue("general.architecture", GgufValue::String("llama")).ok());
  ASSERT_TRUE(writer.AddKeyValue("general.alignment", GgufValue::U32(64)).ok());
  const int64_t ne[] = {64, 8};
  const auto add = [&](const char* name) {
    std::vector<std::byte> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    ASSERT_TRUE(writer.AddTensorOwned(name, DType::kF32, ne, std::move(bytes)).ok());
  };
  add("blk.0.attn_q.weight");
  values[3 * 64 + 5] = std::numeric_limits<float>::quiet_NaN();
  add("blk.0.attn_k.weight");
  TempPath in("nan_in.gguf"), out("nan_out.gguf");
  ASSERT_TRUE(writer.WriteFile(in.path()).ok());

  StatusOr<QuantizeSummary> summary =
      QuantizeGguf(in.path(), out.path(), {.types = {.requested = DType::kQ8_0}}, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().message(),
            "tensor blk.0.attn_k.weight: row 3 holds a NaN or Inf; refusing to convert it");
  EXPECT_FALSE(Exists(out.path()));
  EXPECT_FALSE(Exists(out.path() + ".tmp"));

  // Kept as it is by a rule, the NaN is copied, not converted; file_type is added.
  const QuantizeOptions keep{
      .types = {.requested = DType::kQ8_0, .rules = {{DType::kF32, "attn_k."}}}};
  summary = QuantizeGguf(in.path(), out.path(), keep, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const GgufFile file = GgufFile::Open(out.path()).value();
  EXPECT_EQ(file.alignment(), 64U);
  EXPECT_EQ(*file.GetUint(gguf::kKeyFileType), 7U);
  EXPECT_EQ(*file.GetUint(gguf::kKeyQuantizationVersion), 2U);
  EXPECT_EQ(file.FindTensor("blk.0.attn_q.weight")->dtype, DType::kQ8_0);
  EXPECT_EQ(file.FindTensor("blk.0.attn_k.weight")->dtype, DType::kF32);
  EXPECT_EQ(summary->copied, 1);
}

TEST(QuantizeModelTest, TypesDsinferCannotReadAreAnErrorUnlessUnchanged) {
  const int64_t ne[] = {256, 2};
  const DTypeInfo& unreadable = GetDTypeInfo(DType::kTQ1_0);
  GgufWriter writer;
  ASSERT_TRUE(
      writer
          .AddTensorOwned("blk.0.ffn_up.weight", DType::kTQ1_0, ne,
                          std::vector<std::byte>(static_cast<size_t>(2 * unreadable.type_size)))
          .ok());
  TempPath in("tq1_in.gguf"), out("tq1_out.gguf");
  ASSERT_TRUE(writer.WriteFile(in.path()).ok());
  const StatusOr<QuantizeSummary> summary =
      QuantizeGguf(in.path(), out.path(), {.types = {.requested = DType::kQ4_K}}, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().message(),
            "tensor blk.0.ffn_up.weight: cannot convert from tq1_0 to q4_K: dsinfer cannot "
            "read tq1_0 weights");
  EXPECT_FALSE(Exists(out.path()));
  EXPECT_FALSE(Exists(out.path() + ".tmp"));

  // The router is never converted, so its type need not be readable: copied as it is.
  GgufWriter router;
  ASSERT_TRUE(router
                  .AddTensorOwned("blk.0.ffn_gate_inp.weight", DType::kTQ1_0, ne,
                                  std::vector<std::byte>(
                                      static_cast<size_t>(2 * unreadable.type_size), std::byte{7}))
                  .ok());
  ASSERT_TRUE(router.WriteFile(in.path()).ok());
  ASSERT_TRUE(
      QuantizeGguf(in.path(), out.path(), {.types = {.requested = DType::kQ4_K}}, nullptr).ok());
  const GgufFile file = GgufFile::Open(out.path()).value();
  EXPECT_EQ(file.tensors()[0].dtype, DType::kTQ1_0);
  EXPECT_EQ(file.tensors()[0].view.bytes[5], std::byte{7});
}

TEST(QuantizeModelTest, RolesFromNamesMatchTheLayouts) {
  for (std::string_view preset : ModelPresetNames()) {
    for (const TensorSpec& spec : BuildTensorLayout(*ModelPreset(preset))) {
      EXPECT_EQ(TensorRoleFromGgufName(spec.gguf_name), spec.role)
          << preset << " " << spec.gguf_name;
    }
  }
  EXPECT_EQ(TensorRoleFromGgufName("blk.0.attn_kv_b.weight"), TensorRole::kWeight);
  EXPECT_EQ(TensorRoleFromGgufName("blk.0.attn_q.bias"), TensorRole::kBias);
}

}  // namespace
}  // namespace dsinfer
