// HF checkpoints end to end: a random HF checkpoint (random_hf_model.h) of every arch and
// variant reads back as the same ModelConfig, and LoadHfWeights turns it into exactly the
// tensors WriteRandomGguf writes for that config and seed:
//   * F32 checkpoints: bit for bit, in every storage type (the chain is exact);
//   * BF16 / F16 checkpoints loaded in their own type: matrices bit for bit; tensors GGUF keeps
//     in F32 (norms, router, biases) equal the GGUF value rounded to BF16 / F16;
//   * FP8 (V3) checkpoints: within e4m3's rounding, |x' - x| <= 2^-4 |x| + 2^-10 s (s = block
//     amax / 448, here bounded by the tensor's amax / 448), and bit for bit against a decode of
//     the file written out independently below (q/k permutation, kv_b split).
// Bad checkpoints (missing tensor, wrong shape, wrong dtype, FP8 without scales) are errors
// naming the HF tensor.
#include "model/hf_weights.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/hf_config.h"
#include "formats/safetensors_model.h"
#include "formats/safetensors_writer.h"
#include "model/hf_config_json.h"
#include "model/hf_to_gguf.h"
#include "model/model_presets.h"
#include "model/random_hf_model.h"
#include "model/random_model.h"
#include "quant/fp8.h"
#include "quant/half.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

constexpr const char* kTinyPresets[] = {"tiny-llama",     "tiny-qwen2",   "tiny-deepseek",
                                        "tiny-deepseek2", "tiny-v2-lite", "tiny-v2"};

// A directory under the test temp dir, removed when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name) {
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// tiny-llama with R1-Distill-Llama's llama3 RoPE scaling (rope_freqs.weight).
ModelConfig TinyLlama3() {
  ModelConfig c = *ModelPreset("tiny-llama");
  c.rope.theta = 500000.0;
  c.rope.scaling = RopeScalingType::kLlama3;
  c.rope.factor = 8.0;
  c.rope.low_freq_factor = 1.0;
  c.rope.high_freq_factor = 4.0;
  c.rope.original_max_position_embeddings = 64;
  return c;
}

std::vector<std::pair<std::string, ModelConfig>> TinyConfigs() {
  std::vector<std::pair<std::string, ModelConfig>> configs;
  for (const char* preset : kTinyPresets) configs.emplace_back(preset, *ModelPreset(preset));
  configs.emplace_back("tiny-llama3", TinyLlama3());
  return configs;
}

ModelConfig ConfigOfDir(const std::string& dir) {
  StatusOr<HfConfig> hf = LoadHfConfig(dir);
  EXPECT_TRUE(hf.ok()) << hf.status().ToString();
  StatusOr<ModelConfig> config = ModelConfig::FromHfConfig(*hf);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

StatusOr<WeightStore> LoadDir(const std::string& dir, const HfWeightOptions& options,
                              ThreadPool* pool = nullptr) {
  DSI_ASSIGN_OR_RETURN(SafetensorsModel model, SafetensorsModel::Open(dir));
  return LoadHfWeights(model, ConfigOfDir(dir), options, pool);
}

// The GGUF WriteRandomGguf writes, as a store.
WeightStore GgufStore(const ModelConfig& config, const RandomModelOptions& options,
                      const std::string& path) {
  EXPECT_TRUE(WriteRandomGguf(config, options, path).ok());
  StatusOr<GgufFile> file = GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return WeightStore::FromGguf(std::make_shared<const GgufFile>(std::move(*file)));
}

std::vector<float> ToFloats(const TensorView& view) {
  const int64_t n = *view.shape.NumElements();
  std::vector<float> out(static_cast<size_t>(n));
  EXPECT_TRUE(DequantizeRows(view.dtype, view.bytes, view.shape.inner(), out).ok());
  return out;
}

float RoundTo(DType dtype, float x) {
  return dtype == DType::kBF16 ? Bf16ToFp32(Fp32ToBf16(x)) : Fp16ToFp32(Fp32ToFp16(x));
}

// Every tensor of `expected` is in `actual` with the same type and shape (and no others);
// `check` compares the contents.
void ExpectSameTensors(
    const WeightStore& actual, const WeightStore& expected,
    const std::function<void(const std::string&, const TensorView&, const TensorView&)>& check) {
  ASSERT_EQ(actual.Names(), expected.Names());
  for (const std::string& name : expected.Names()) {
    const TensorView& a = *actual.Find(name);
    const TensorView& e = *expected.Find(name);
    ASSERT_EQ(a.dtype, e.dtype) << name;
    ASSERT_EQ(a.shape, e.shape) << name;
    check(name, a, e);
  }
}

void ExpectSameBytes(const std::string& name, const TensorView& a, const TensorView& e) {
  ASSERT_EQ(a.bytes.size(), e.bytes.size()) << name;
  EXPECT_EQ(std::memcmp(a.bytes.data(), e.bytes.data(), a.bytes.size()), 0) << name;
}

TEST(HfConfigJsonTest, EveryPresetReadsBackAsTheSameConfig) {
  std::vector<std::string_view> names = ModelPresetNames();
  for (std::string_view name : names) {
    SCOPED_TRACE(std::string(name));
    const ModelConfig config = *ModelPreset(name);
    StatusOr<std::string> json = HfConfigJsonFor(config, DType::kBF16);
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    StatusOr<HfConfig> hf = ParseHfConfig(*json, "config.json");
    ASSERT_TRUE(hf.ok()) << hf.status().ToString() << "\n" << *json;
    StatusOr<ModelConfig> back = ModelConfig::FromHfConfig(*hf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == config) << *json;
  }
  const ModelConfig llama3 = TinyLlama3();
  StatusOr<HfConfig> hf = ParseHfConfig(*HfConfigJsonFor(llama3, DType::kF32), "config.json");
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  EXPECT_TRUE(*ModelConfig::FromHfConfig(*hf) == llama3);
}

TEST(HfConfigJsonTest, NamesTheRealSchema) {
  const std::string v3 = *HfConfigJsonFor(*ModelPreset("v3"), DType::kF8E4M3);
  for (const char* needle :
       {"\"model_type\": \"deepseek_v3\"", "\"DeepseekV3ForCausalLM\"", "\"quant_method\": \"fp8\"",
        "\"weight_block_size\": [\n      128,\n      128\n    ]", "\"type\": \"yarn\"",
        "\"num_nextn_predict_layers\": 1", "\"torch_dtype\": \"bfloat16\""}) {
    EXPECT_NE(v3.find(needle), std::string::npos) << needle << "\n" << v3;
  }
  const std::string lite = *HfConfigJsonFor(*ModelPreset("v2-lite"), DType::kBF16);
  EXPECT_NE(lite.find("\"model_type\": \"deepseek_v2\""), std::string::npos);
  EXPECT_NE(lite.find("\"q_lora_rank\": null"), std::string::npos);
  EXPECT_NE(HfConfigJsonFor(TinyLlama3(), DType::kF32)->find("\"rope_type\": \"llama3\""),
            std::string::npos);
}

TEST(HfWeightsTest, F32CheckpointEqualsTheRandomGgufInEveryType) {
  ThreadPool pool(3);
  for (const auto& [name, config] : TinyConfigs()) {
    SCOPED_TRACE(name);
    TempDir dir("hf_f32_" + name);
    StatusOr<RandomHfSummary> summary =
        WriteRandomHf(config, {.dtype = DType::kF32, .seed = 11}, dir.path());
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_TRUE(ConfigOfDir(dir.path()) == config);
    for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                       DType::kQ4_K, DType::kQ6_K}) {
      SCOPED_TRACE(std::string(DTypeName(type)));
      StatusOr<WeightStore> hf = LoadDir(dir.path(), {.dtype = type}, &pool);
      ASSERT_TRUE(hf.ok()) << hf.status().ToString();
      const std::string gguf_path = dir.path() + ".gguf";
      const WeightStore gguf = GgufStore(config, {.dtype = type, .seed = 11}, gguf_path);
      ExpectSameTensors(*hf, gguf, ExpectSameBytes);
      std::filesystem::remove(gguf_path);
    }
  }
}

TEST(HfWeightsTest, LegacyFusedKvBAndKeepRules) {
  const ModelConfig config = *ModelPreset("tiny-v2");
  const TensorLayoutOptions fused{.kv_b_form = MlaKvBForm::kFused};
  TempDir dir("hf_fused");
  ASSERT_TRUE(
      WriteRandomHf(config, {.dtype = DType::kF32, .seed = 4, .layout = fused}, dir.path()).ok());
  StatusOr<WeightStore> hf = LoadDir(dir.path(), {.dtype = DType::kQ8_0, .layout = fused});
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  const std::string gguf_path = dir.path() + ".gguf";
  ExpectSameTensors(
      *hf, GgufStore(config, {.dtype = DType::kQ8_0, .seed = 4, .layout = fused}, gguf_path),
      ExpectSameBytes);
  std::filesystem::remove(gguf_path);

  // --keep f16:attn on a q4_0 load: attention matrices f16, the rest q4_0, norms f32.
  StatusOr<WeightStore> mixed =
      LoadDir(dir.path(),
              {.dtype = DType::kQ4_0, .keep = {*ParseTensorTypeRule("f16:attn")}, .layout = fused});
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ(mixed->Find("blk.1.attn_kv_b.weight")->dtype, DType::kF16);
  EXPECT_EQ(mixed->Find("blk.1.attn_q_b.weight")->dtype, DType::kF16);
  EXPECT_EQ(mixed->Find("blk.1.attn_norm.weight")->dtype, DType::kF32);
  EXPECT_EQ(mixed->Find("blk.1.ffn_up_exps.weight")->dtype, DType::kQ4_0);
}

TEST(HfWeightsTest, HalfCheckpointsLoadedInTheirOwnTypeMatchUpToTheirRounding) {
  for (DType dtype : {DType::kBF16, DType::kF16}) {
    for (const char* preset : {"tiny-llama", "tiny-qwen2", "tiny-deepseek2"}) {
      SCOPED_TRACE(std::string(preset) + " " + std::string(DTypeName(dtype)));
      const ModelConfig config = *ModelPreset(preset);
      TempDir dir("hf_half");
      ASSERT_TRUE(WriteRandomHf(config, {.dtype = dtype, .seed = 2}, dir.path()).ok());
      StatusOr<WeightStore> hf = LoadDir(dir.path(), {.dtype = dtype});
      ASSERT_TRUE(hf.ok()) << hf.status().ToString();
      const std::string gguf_path = dir.path() + ".gguf";
      int rounded = 0;
      ExpectSameTensors(*hf, GgufStore(config, {.dtype = dtype, .seed = 2}, gguf_path),
                        [&](const std::string& name, const TensorView& a, const TensorView& e) {
                          if (e.dtype == dtype) return ExpectSameBytes(name, a, e);
                          ASSERT_EQ(e.dtype, DType::kF32) << name;
                          const bool exact =
                              name.find("exp_probs_b") != std::string::npos;  // F32 in HF too
                          const std::vector<float> got = ToFloats(a), want = ToFloats(e);
                          for (size_t i = 0; i < want.size(); ++i) {
                            const float w = exact ? want[i] : RoundTo(dtype, want[i]);
                            ASSERT_EQ(got[i], w) << name << "[" << i << "]";
                            rounded += got[i] != want[i];
                          }
                        });
      EXPECT_GT(rounded, 0) << "the F32 tensors went through the checkpoint's rounding";
      std::filesystem::remove(gguf_path);
    }
  }
}

// "The same model loaded from HF and from its GGUF conversion": ConvertHfToGguf writes exactly
// the tensors LoadHfWeights makes, and a file ModelConfig::FromGguf reads as the same model.
TEST(HfWeightsTest, ConvertedGgufHoldsTheStoreLoadedFromHf) {
  ThreadPool pool(2);
  for (const auto& [name, config] : TinyConfigs()) {
    SCOPED_TRACE(name);
    const DType hf_type = config.arch == ModelArch::kDeepseek2 ? DType::kF8E4M3 : DType::kBF16;
    TempDir dir("hf_convert_" + name);
    ASSERT_TRUE(WriteRandomHf(config, {.dtype = hf_type, .seed = 21}, dir.path()).ok());
    StatusOr<SafetensorsModel> model = SafetensorsModel::Open(dir.path());
    ASSERT_TRUE(model.ok());
    // One type with a rule, and a mixture (whose layer facts come from the config).
    const HfWeightOptions weights =
        name.find("deepseek") != std::string::npos || name == "tiny-llama"
            ? HfWeightOptions{.dtype = DType::kQ4_K, .mixture = QuantMixture::kQ4_K_M}
            : HfWeightOptions{.dtype = DType::kQ4_K, .keep = {*ParseTensorTypeRule("q8_0:attn")}};
    StatusOr<WeightStore> direct = LoadHfWeights(*model, config, weights, &pool);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    const std::string out = dir.path() + ".gguf";
    int64_t reported = 0;
    StatusOr<HfConvertSummary> summary =
        ConvertHfToGguf(*model, config,
                        {.weights = weights,
                         .name = name,
                         .on_tensor = [&](const HfConvertedTensor&) { ++reported; }},
                        out, &pool);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_EQ(reported, summary->tensors);
    StatusOr<GgufFile> file = GgufFile::Open(out);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ(file->file_size(), summary->file_bytes);
    StatusOr<ModelConfig> back = ModelConfig::FromGguf(*file);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->arch, config.arch);
    EXPECT_EQ(back->num_hidden_layers, config.num_hidden_layers);
    EXPECT_EQ(back->n_routed_experts, config.n_routed_experts);
    EXPECT_EQ(back->rope.scaling, config.rope.scaling);
    if (weights.mixture) {  // raised: Q6_K wanted, Q8_0 for rows of 64 (plain q4_K: Q5_0)
      EXPECT_EQ(file->FindTensor("output.weight")->dtype, DType::kQ8_0);
    }
    ExpectSameTensors(WeightStore::FromGguf(std::make_shared<const GgufFile>(std::move(*file))),
                      *direct, ExpectSameBytes);
    std::filesystem::remove(out);
  }
}

// llama.cpp's permute (reference §3.4), written as numpy does it:
// W.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols).
std::vector<float> LlamaCppPermute(const std::vector<float>& w, int64_t rows, int64_t cols,
                                   int64_t n_head) {
  const int64_t half = rows / n_head / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t two = 0; two < 2; ++two) {
      for (int64_t i = 0; i < half; ++i) {
        // out[h][i][two] = in[h][two][i]
        const int64_t in_row = (h * 2 + two) * half + i;
        const int64_t out_row = (h * half + i) * 2 + two;
        std::memcpy(&out[static_cast<size_t>(out_row * cols)],
                    &w[static_cast<size_t>(in_row * cols)],
                    static_cast<size_t>(cols) * sizeof(float));
      }
    }
  }
  return out;
}

// A whole HF tensor of the checkpoint as floats, FP8 decoded with its scales by hand.
std::vector<float> DecodeHf(const SafetensorsModel& model, const std::string& name) {
  const SafetensorsTensor* t = model.Find(name);
  EXPECT_NE(t, nullptr) << name;
  const int64_t cols = t->shape.inner();
  const int64_t n = *t->shape.NumElements();
  std::vector<float> out(static_cast<size_t>(n));
  if (t->dtype != DType::kF8E4M3) {
    EXPECT_TRUE(DequantizeRows(t->dtype, t->view.bytes, cols, out).ok());
    return out;
  }
  const SafetensorsTensor* scale = model.Find(name + "_scale_inv");
  EXPECT_NE(scale, nullptr);
  const auto* w = reinterpret_cast<const uint8_t*>(t->view.bytes.data());
  const auto* s = reinterpret_cast<const float*>(scale->view.bytes.data());
  const int64_t scale_cols = (cols + 127) / 128;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = i / cols, c = i % cols;
    out[static_cast<size_t>(i)] = Fp8E4M3ToFp32(w[i]) * s[(r / 128) * scale_cols + c / 128];
  }
  return out;
}

TEST(HfWeightsTest, Fp8CheckpointMatchesWithinE4m3RoundingAndItsOwnDecodeExactly) {
  const ModelConfig config = *ModelPreset("tiny-deepseek2");  // V3 routing, MTP layer
  TempDir dir("hf_fp8");
  StatusOr<RandomHfSummary> summary =
      WriteRandomHf(config, {.dtype = DType::kF8E4M3, .seed = 9}, dir.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  StatusOr<SafetensorsModel> model = SafetensorsModel::Open(dir.path());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // The checkpoint is laid out as V3's: FP8 linears with scales, BF16 router, F32 bias, MTP.
  EXPECT_EQ(model->Find("model.layers.1.mlp.experts.3.up_proj.weight")->dtype, DType::kF8E4M3);
  EXPECT_EQ(model->Find("model.layers.1.mlp.experts.3.up_proj.weight_scale_inv")->dtype,
            DType::kF32);
  EXPECT_EQ(model->Find("model.layers.1.mlp.gate.weight")->dtype, DType::kBF16);
  EXPECT_EQ(model->Find("model.layers.1.mlp.gate.e_score_correction_bias")->dtype, DType::kF32);
  EXPECT_EQ(model->Find("model.embed_tokens.weight")->dtype, DType::kBF16);
  EXPECT_NE(model->Find("model.layers.3.eh_proj.weight"), nullptr);  // MTP: layer 3 of 3
  EXPECT_NE(model->Find("model.layers.3.self_attn.kv_b_proj.weight"), nullptr);

  StatusOr<WeightStore> hf =
      LoadHfWeights(*model, ConfigOfDir(dir.path()), {.dtype = DType::kF32}, nullptr);
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  const std::string gguf_path = dir.path() + ".gguf";
  int64_t differing = 0;
  ExpectSameTensors(
      *hf, GgufStore(config, {.dtype = DType::kF32, .seed = 9}, gguf_path),
      [&](const std::string& name, const TensorView& a, const TensorView& e) {
        const std::vector<float> got = ToFloats(a), want = ToFloats(e);
        float amax = 0;
        for (float w : want) amax = std::max(amax, std::fabs(w));
        const bool fp8 = name.starts_with("blk.") && a.shape.rank() >= 2 &&
                         name.find("ffn_gate_inp") == std::string::npos;
        for (size_t i = 0; i < want.size(); ++i) {
          if (fp8) {
            const float bound =
                std::ldexp(std::fabs(want[i]), -4) + std::ldexp(amax / kFp8E4M3Max, -10) + 1e-7F;
            ASSERT_LE(std::fabs(got[i] - want[i]), bound) << name << "[" << i << "]";
          } else if (name.find("exp_probs_b") != std::string::npos || name == "rope_freqs.weight") {
            ASSERT_EQ(got[i], want[i]) << name;
          } else {
            ASSERT_EQ(got[i], RoundTo(DType::kBF16, want[i])) << name;
          }
          differing += got[i] != want[i];
        }
      });
  EXPECT_GT(differing, 0);
  std::filesystem::remove(gguf_path);

  // Bit-exact against decodes of the file done here, with the reference's own formulas.
  const int64_t h = config.num_attention_heads, dn = config.qk_nope_head_dim;
  const int64_t dv = config.v_head_dim, rkv = config.kv_lora_rank;
  const std::vector<float> q_a = DecodeHf(*model, "model.layers.0.self_attn.q_a_proj.weight");
  EXPECT_EQ(ToFloats(*hf->Find("blk.0.attn_q_a.weight")), q_a);
  const std::vector<float> kv_b = DecodeHf(*model, "model.layers.2.self_attn.kv_b_proj.weight");
  const std::vector<float> k_b = ToFloats(*hf->Find("blk.2.attn_k_b.weight"));
  const std::vector<float> v_b = ToFloats(*hf->Find("blk.2.attn_v_b.weight"));
  for (int64_t head = 0; head < h; ++head) {
    for (int64_t c = 0; c < rkv; ++c) {
      for (int64_t n = 0; n < dn; ++n) {  // k_b = K part transposed: torch [H, rkv, dn]
        ASSERT_EQ(k_b[static_cast<size_t>((head * rkv + c) * dn + n)],
                  kv_b[static_cast<size_t>((head * (dn + dv) + n) * rkv + c)]);
      }
      for (int64_t v = 0; v < dv; ++v) {  // v_b = V part: torch [H, dv, rkv]
        ASSERT_EQ(v_b[static_cast<size_t>((head * dv + v) * rkv + c)],
                  kv_b[static_cast<size_t>((head * (dn + dv) + dn + v) * rkv + c)]);
      }
    }
  }
}

TEST(HfWeightsTest, QkRowsArePermutedAsLlamaCppDoes) {
  for (const char* preset : {"tiny-llama", "tiny-deepseek", "tiny-qwen2"}) {
    SCOPED_TRACE(preset);
    const ModelConfig config = *ModelPreset(preset);
    TempDir dir("hf_permute");
    ASSERT_TRUE(WriteRandomHf(config, {.dtype = DType::kBF16, .seed = 5}, dir.path()).ok());
    StatusOr<SafetensorsModel> model = SafetensorsModel::Open(dir.path());
    ASSERT_TRUE(model.ok());
    StatusOr<WeightStore> hf = LoadHfWeights(*model, config, {.dtype = DType::kF32}, nullptr);
    ASSERT_TRUE(hf.ok()) << hf.status().ToString();
    const bool permuted = config.arch != ModelArch::kQwen2;
    const int64_t d = config.hidden_size, hd = config.head_dim;
    for (const auto& [proj, gguf, heads] :
         {std::tuple{"q_proj", "attn_q", config.num_attention_heads},
          std::tuple{"k_proj", "attn_k", config.num_key_value_heads}}) {
      const std::vector<float> w =
          DecodeHf(*model, fmt::format("model.layers.1.self_attn.{}.weight", proj));
      EXPECT_EQ(ToFloats(*hf->Find(fmt::format("blk.1.{}.weight", gguf))),
                permuted ? LlamaCppPermute(w, heads * hd, d, heads) : w)
          << proj;
      if (config.qkv_bias) {
        const std::vector<float> b =
            DecodeHf(*model, fmt::format("model.layers.1.self_attn.{}.bias", proj));
        EXPECT_EQ(ToFloats(*hf->Find(fmt::format("blk.1.{}.bias", gguf))), b) << proj;
      }
    }
  }
}

TEST(HfWeightsTest, ShardedCheckpointLoadsLikeOneFile) {
  const ModelConfig config = *ModelPreset("tiny-deepseek");
  TempDir one("hf_one"), many("hf_many");
  ASSERT_TRUE(WriteRandomHf(config, {.dtype = DType::kBF16, .seed = 3}, one.path()).ok());
  StatusOr<RandomHfSummary> summary = WriteRandomHf(
      config, {.dtype = DType::kBF16, .seed = 3, .max_shard_bytes = 64 << 10}, many.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_GT(summary->shards, 2);
  EXPECT_TRUE(std::filesystem::exists(many.path() + "/model.safetensors.index.json"));
  EXPECT_FALSE(std::filesystem::exists(many.path() + "/model.safetensors"));
  StatusOr<SafetensorsModel> model = SafetensorsModel::Open(many.path());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(model->shards().size()), summary->shards);
  StatusOr<WeightStore> a = LoadDir(one.path(), {.dtype = DType::kQ8_0});
  StatusOr<WeightStore> b = LoadDir(many.path(), {.dtype = DType::kQ8_0});
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectSameTensors(*b, *a, ExpectSameBytes);
}

// Copies the checkpoint in `from` to `to` as one file, with `edit` deciding per tensor:
// return false to drop it; it may change the dtype/shape/bytes it is given.
using Edit = std::function<bool(std::string& name, DType& dtype, Shape& shape,
                                std::vector<std::byte>& bytes)>;
void CopyCheckpoint(
    const std::string& from, const std::string& to, const Edit& edit,
    std::vector<std::tuple<std::string, DType, Shape, std::vector<std::byte>>> extra = {}) {
  StatusOr<SafetensorsModel> model = SafetensorsModel::Open(from);
  ASSERT_TRUE(model.ok());
  std::filesystem::create_directories(to);
  std::filesystem::copy_file(from + "/config.json", to + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  auto tensors = std::move(extra);
  for (const SafetensorsModel::Entry& entry : model->tensors()) {
    std::string name = entry.tensor->name;
    DType dtype = entry.tensor->dtype;
    Shape shape = entry.tensor->shape;
    std::vector<std::byte> bytes(entry.tensor->view.bytes.begin(), entry.tensor->view.bytes.end());
    if (edit(name, dtype, shape, bytes)) tensors.emplace_back(name, dtype, shape, std::move(bytes));
  }
  SafetensorsWriter w;
  for (const auto& [name, dtype, shape, bytes] : tensors)
    ASSERT_TRUE(w.AddTensor(name, dtype, shape).ok());
  ASSERT_TRUE(w.Open(to + "/model.safetensors").ok());
  for (const std::string& name : w.tensor_order()) {
    for (const auto& [n, dtype, shape, bytes] : tensors) {
      if (n == name) {
        ASSERT_TRUE(w.Write(name, bytes).ok());
      }
    }
  }
  ASSERT_TRUE(w.Commit().ok());
}

TEST(HfWeightsTest, BadCheckpointsAreErrorsNamingTheTensor) {
  const ModelConfig config = *ModelPreset("tiny-deepseek2");
  TempDir dir("hf_bad_src"), bad("hf_bad");
  ASSERT_TRUE(WriteRandomHf(config, {.dtype = DType::kF8E4M3, .seed = 1}, dir.path()).ok());
  const auto expect_error = [&](const Edit& edit, const std::string& message) {
    SCOPED_TRACE(message);
    std::filesystem::remove_all(bad.path());
    CopyCheckpoint(dir.path(), bad.path(), edit);
    StatusOr<WeightStore> store = LoadDir(bad.path(), {.dtype = DType::kQ8_0});
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.status().message().find(message), std::string::npos)
        << store.status().ToString();
  };
  const std::string kv_b = "model.layers.1.self_attn.kv_b_proj.weight";
  expect_error(
      [&](std::string& name, DType&, Shape&, std::vector<std::byte>&) {
        return name != "model.layers.2.mlp.experts.7.down_proj.weight";
      },
      "tensor model.layers.2.mlp.experts.7.down_proj.weight (for GGUF blk.2.ffn_down_exps.weight) "
      "is missing");
  expect_error(
      [&](std::string& name, DType&, Shape& shape, std::vector<std::byte>& bytes) {
        if (name == "model.norm.weight") {  // one element short
          shape = Shape{config.hidden_size - 1};
          bytes.resize(bytes.size() - 2);
        }
        return true;
      },
      "tensor model.norm.weight (for GGUF output_norm.weight): shape [63], expected [64]");
  expect_error(
      [&](std::string& name, DType& dtype, Shape&, std::vector<std::byte>&) {
        if (name == "model.layers.0.input_layernorm.weight") dtype = DType::kI16;
        return true;
      },
      "tensor model.layers.0.input_layernorm.weight (for GGUF blk.0.attn_norm.weight): dtype I16 "
      "is "
      "not converted");
  expect_error(
      [&](std::string& name, DType&, Shape&, std::vector<std::byte>&) {
        return name != kv_b + "_scale_inv";
      },
      "tensor " + kv_b + " (for GGUF blk.1.attn_k_b.weight): F8_E4M3 without its block scales");
  expect_error(
      [&](std::string& name, DType&, Shape& shape, std::vector<std::byte>& bytes) {
        if (name == kv_b + "_scale_inv") {
          shape = Shape{static_cast<int64_t>(bytes.size() / 4)};
        }
        return true;
      },
      "scale tensor " + kv_b + "_scale_inv is F32 [1], expected F32 [1, 1]");

  // Values that are not finite, found while converting: an FP8 NaN code (S.1111.111), an
  // infinite block scale, a NaN in a norm weight of whatever float type it is stored in.
  expect_error(
      [&](std::string& name, DType&, Shape&, std::vector<std::byte>& bytes) {
        if (name == kv_b) bytes[5] = std::byte{0x7F};
        return true;
      },
      kv_b + ": element [0, 5] is nan; a checkpoint's weights must be finite");
  expect_error(
      [&](std::string& name, DType&, Shape&, std::vector<std::byte>& bytes) {
        if (name == kv_b + "_scale_inv") {
          const float inf = std::numeric_limits<float>::infinity();
          std::memcpy(bytes.data(), &inf, sizeof(inf));
        }
        return true;
      },
      kv_b + ": element [0, 0] is ");
  expect_error(
      [&](std::string& name, DType& dtype, Shape&, std::vector<std::byte>& bytes) {
        if (name == "model.norm.weight") {
          const float nan = std::numeric_limits<float>::quiet_NaN();
          if (dtype == DType::kF32) {
            std::memcpy(bytes.data() + 8, &nan, sizeof(nan));
          } else {  // F16 or BF16: a quiet NaN in both
            bytes[4] = std::byte{0xC0};
            bytes[5] = std::byte{0x7F};
          }
        }
        return true;
      },
      "model.norm.weight: element [0, 2] is nan");

  // Tensors the layout does not use are ignored: an old inv_freq buffer, the MTP layer.
  std::filesystem::remove_all(bad.path());
  std::vector<std::byte> inv_freq(size_t{16}, std::byte{1});  // 4 floats
  CopyCheckpoint(
      dir.path(), bad.path(),
      [](std::string&, DType&, Shape&, std::vector<std::byte>&) { return true; },
      {{"model.layers.0.self_attn.rotary_emb.inv_freq", DType::kF32, Shape{4}, inv_freq}});
  EXPECT_TRUE(LoadDir(bad.path(), {.dtype = DType::kQ8_0}).ok());
}

}  // namespace
}  // namespace dsinfer
