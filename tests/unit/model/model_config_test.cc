// ModelConfig: presets validate; FromGguf reads back what random-model and the metadata writer
// wrote, for every arch and variant; FromHfConfig on real config.json fixtures gives the
// presets; Validate names the offending field.
#include "model/model_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "formats/gguf_writer.h"
#include "formats/hf_config.h"
#include "model/gguf_metadata.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model/tensor_storage_type.h"
#include "model_test_util.h"

namespace dsinfer {
namespace {

using ::testing::HasSubstr;
using testing::TempPath;

// What a GGUF can carry of `c` (model_config.h): no MTP count, llama3 parameters only as
// the rope_freqs tensor.
ModelConfig AsStoredInGguf(ModelConfig c) {
  c.num_nextn_predict_layers = 0;
  if (c.rope.scaling == RopeScalingType::kLlama3) {
    c.rope =
        RopeScalingConfig{.theta = c.rope.theta, .scaling = RopeScalingType::kLlama3, .factor = 0};
  }
  return c;
}

ModelConfig Preset(std::string_view name) {
  StatusOr<ModelConfig> c = ModelPreset(name);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

TEST(ModelPresetTest, EveryPresetValidates) {
  for (std::string_view name : ModelPresetNames()) {
    EXPECT_TRUE(Preset(name).Validate().ok()) << name << ": " << Preset(name).Validate().ToString();
  }
  EXPECT_EQ(ModelPreset("v4").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ModelPreset("v4").status().message(), HasSubstr("v2-lite"));
}

TEST(ModelPresetTest, WithLayersKeepsOneMoeLayer) {
  StatusOr<ModelConfig> v3 = WithLayers(Preset("v3"), 2);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->num_hidden_layers, 2);
  EXPECT_FALSE(v3->IsMoeLayer(0));
  EXPECT_TRUE(v3->IsMoeLayer(1));
  EXPECT_EQ(WithLayers(Preset("v3"), 62).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WithLayers(Preset("v3"), 0).status().code(), StatusCode::kInvalidArgument);
}

struct Variant {
  std::string label;
  std::string preset;
  MlaKvBForm form = MlaKvBForm::kSplit;
  std::function<void(ModelConfig&)> tweak = [](ModelConfig&) {};
};

std::vector<Variant> TinyVariants() {
  std::vector<Variant> v;
  for (std::string_view name : ModelPresetNames()) {
    if (name.starts_with("tiny-")) v.push_back({std::string(name), std::string(name)});
  }
  v.push_back({"deepseek2 legacy attn_kv_b", "tiny-deepseek2", MlaKvBForm::kFused});
  v.push_back({"v2-lite legacy attn_kv_b", "tiny-v2-lite", MlaKvBForm::kFused});
  v.push_back({"llama linear rope", "tiny-llama", MlaKvBForm::kSplit, [](ModelConfig& c) {
                 c.rope.scaling = RopeScalingType::kLinear;
                 c.rope.factor = 4;
               }});
  v.push_back({"llama llama3 rope", "tiny-llama", MlaKvBForm::kSplit, [](ModelConfig& c) {
                 c.rope = {.theta = 500000,
                           .scaling = RopeScalingType::kLlama3,
                           .factor = 8,
                           .original_max_position_embeddings = 64,
                           .low_freq_factor = 1,
                           .high_freq_factor = 4};
               }});
  v.push_back({"qwen2 tied embeddings", "tiny-qwen2", MlaKvBForm::kSplit,
               [](ModelConfig& c) { c.tie_word_embeddings = true; }});
  v.push_back({"deepseek2 v3 without groups", "tiny-deepseek2", MlaKvBForm::kSplit,
               [](ModelConfig& c) { c.n_group = c.topk_group = 1; }});
  return v;
}

TEST(ModelConfigGgufTest, RandomModelOfEveryVariantReadsBackAsItsConfig) {
  for (const Variant& v : TinyVariants()) {
    SCOPED_TRACE(v.label);
    ModelConfig config = Preset(v.preset);
    v.tweak(config);
    ASSERT_TRUE(config.Validate().ok()) << config.Validate().ToString();
    TempPath file("variant.gguf");
    const RandomModelOptions options{.dtype = DType::kQ8_0, .seed = 7, .layout = {v.form}};
    StatusOr<RandomModelSummary> written = WriteRandomGguf(config, options, file.path());
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    StatusOr<GgufFile> gguf = GgufFile::Open(file.path());
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    EXPECT_EQ(MlaKvBFormOf(*gguf), config.uses_mla() ? v.form : MlaKvBForm::kFused);
    StatusOr<ModelConfig> read = ModelConfig::FromGguf(*gguf);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(*read == AsStoredInGguf(config));
  }
}

// A GGUF with every tensor of `config` declared and no data written: a sparse file as large
// as the real one, so full-width shapes cost nothing.
void WriteSparseGguf(const ModelConfig& config, MlaKvBForm form, const std::string& path) {
  GgufWriter w;
  ASSERT_TRUE(w.AddKeyValue("general.architecture",
                            GgufValue::String(std::string(ModelArchName(config.arch))))
                  .ok());
  StatusOr<std::vector<GgufKeyValue>> metadata = GgufMetadataFor(config, {form});
  ASSERT_TRUE(metadata.ok());
  for (GgufKeyValue& kv : *metadata) ASSERT_TRUE(w.AddKeyValue(kv.key, kv.value).ok());
  for (const TensorSpec& spec : BuildTensorLayout(config, {form})) {
    ASSERT_TRUE(w.AddTensorInfo(spec.gguf_name, StorageTypeFor(spec, DType::kQ4_0), spec.ne).ok());
  }
  const std::vector<std::byte> header = w.SerializeHeader();
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, header.data(), header.size()), static_cast<ssize_t>(header.size()));
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(header.size() + w.DataSectionSize())), 0);
  ::close(fd);
}

TEST(ModelConfigGgufTest, FullSizePresetsReadBackFromTheirMetadata) {
  for (std::string_view name : ModelPresetNames()) {
    if (name.starts_with("tiny-")) continue;
    SCOPED_TRACE(name);
    const ModelConfig config = *WithLayers(Preset(name), 4);
    TempPath file("sparse.gguf");
    WriteSparseGguf(config, MlaKvBForm::kSplit, file.path());
    StatusOr<GgufFile> gguf = GgufFile::Open(file.path());
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    StatusOr<ModelConfig> read = ModelConfig::FromGguf(*gguf);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(*read == AsStoredInGguf(config));
  }
}

TEST(ModelConfigGgufTest, V3MetadataIsWhatLlamaCppWrites) {
  StatusOr<std::vector<GgufKeyValue>> kvs = GgufMetadataFor(Preset("v3"), {});
  ASSERT_TRUE(kvs.ok());
  const auto find = [&](std::string_view key) -> const GgufValue* {
    for (const GgufKeyValue& kv : *kvs) {
      if (kv.key == key) return &kv.value;
    }
    return nullptr;
  };
  // Reference §6.2 table (values for V3/R1).
  const std::pair<std::string_view, uint64_t> ints[] = {
      {"deepseek2.context_length", 163840},
      {"deepseek2.embedding_length", 7168},
      {"deepseek2.block_count", 61},
      {"deepseek2.feed_forward_length", 18432},
      {"deepseek2.attention.head_count", 128},
      {"deepseek2.attention.head_count_kv", 1},
      {"deepseek2.attention.q_lora_rank", 1536},
      {"deepseek2.attention.kv_lora_rank", 512},
      {"deepseek2.attention.key_length", 576},
      {"deepseek2.attention.value_length", 512},
      {"deepseek2.attention.key_length_mla", 192},
      {"deepseek2.attention.value_length_mla", 128},
      {"deepseek2.leading_dense_block_count", 3},
      {"deepseek2.expert_feed_forward_length", 2048},
      {"deepseek2.expert_count", 256},
      {"deepseek2.expert_used_count", 8},
      {"deepseek2.expert_shared_count", 1},
      {"deepseek2.expert_gating_func", 2},
      {"deepseek2.expert_group_count", 8},
      {"deepseek2.expert_group_used_count", 4},
      {"deepseek2.rope.dimension_count", 64},
      {"deepseek2.rope.scaling.original_context_length", 4096},
  };
  for (const auto& [key, value] : ints) {
    const GgufValue* v = find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->type(), GgufType::kUint32) << key;
    EXPECT_EQ(v->AsUint64(), value) << key;
  }
  EXPECT_EQ(find("deepseek2.expert_weights_scale")->AsDouble(), 2.5);
  EXPECT_EQ(find("deepseek2.expert_weights_norm")->AsBool(), true);
  EXPECT_EQ(*find("deepseek2.rope.scaling.type")->AsString(), "yarn");
  EXPECT_EQ(find("deepseek2.rope.scaling.factor")->AsDouble(), 40.0);
  EXPECT_FLOAT_EQ(
      static_cast<float>(*find("deepseek2.rope.scaling.yarn_log_multiplier")->AsDouble()), 0.1F);
  EXPECT_EQ(find("deepseek2.nextn_predict_layers"), nullptr);  // MTP dropped, as llama.cpp does
  // V2-Lite: q_lora_rank 0, so that llama.cpp, which takes a deepseek2 file for V2-Lite only
  // at 26 or 27 layers and otherwise requires the key, reads attn_q for a V2-Lite cut to 4.
  StatusOr<std::vector<GgufKeyValue>> lite = GgufMetadataFor(*WithLayers(Preset("v2-lite"), 4), {});
  ASSERT_TRUE(lite.ok());
  const auto lite_key = std::find_if(lite->begin(), lite->end(), [](const GgufKeyValue& kv) {
    return kv.key == "deepseek2.attention.q_lora_rank";
  });
  ASSERT_NE(lite_key, lite->end());
  EXPECT_EQ(lite_key->value.type(), GgufType::kUint32);
  EXPECT_EQ(lite_key->value.AsUint64(), 0U);
}

StatusOr<GgufFile> ParseMetadataOnly(std::string_view arch, const std::vector<GgufKeyValue>& kvs) {
  GgufWriter w;
  DSI_RETURN_IF_ERROR(w.AddKeyValue("general.architecture", GgufValue::String(std::string(arch))));
  for (const GgufKeyValue& kv : kvs) DSI_RETURN_IF_ERROR(w.AddKeyValue(kv.key, kv.value));
  DSI_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, w.WriteToBuffer());
  auto owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  return GgufFile::Parse(*owned, "test.gguf", owned);
}

TEST(ModelConfigGgufTest, MissingOrWrongKeysAreNamed) {
  StatusOr<std::vector<GgufKeyValue>> kvs = GgufMetadataFor(Preset("tiny-deepseek2"), {});
  ASSERT_TRUE(kvs.ok());
  for (std::string_view key : {"deepseek2.embedding_length", "deepseek2.attention.kv_lora_rank",
                               "deepseek2.expert_used_count", "deepseek2.attention.head_count"}) {
    std::vector<GgufKeyValue> without;
    for (const GgufKeyValue& kv : *kvs) {
      if (kv.key != key) without.push_back(kv);
    }
    StatusOr<GgufFile> file = ParseMetadataOnly("deepseek2", without);
    ASSERT_TRUE(file.ok());
    StatusOr<ModelConfig> config = ModelConfig::FromGguf(*file);
    ASSERT_FALSE(config.ok()) << key;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), HasSubstr(key));
  }
  std::vector<GgufKeyValue> wrong = *kvs;
  for (GgufKeyValue& kv : wrong) {
    if (kv.key == "deepseek2.block_count") kv.value = GgufValue::String("three");
  }
  StatusOr<GgufFile> file = ParseMetadataOnly("deepseek2", wrong);
  ASSERT_TRUE(file.ok());
  EXPECT_THAT(ModelConfig::FromGguf(*file).status().message(),
              HasSubstr("'deepseek2.block_count' is not an integer"));
  StatusOr<GgufFile> gpt2 = ParseMetadataOnly("gpt2", {});
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ(ModelConfig::FromGguf(*gpt2).status().code(), StatusCode::kUnimplemented);
}

TEST(ModelConfigHfTest, ConfigJsonFixturesGiveThePresets) {
  struct Case {
    std::string dir;
    std::string preset;
    std::function<void(ModelConfig&)> tweak = [](ModelConfig&) {};
  };
  const Case cases[] = {
      {"deepseek_v3", "v3"},
      {"deepseek_v2_lite", "v2-lite"},
      {"deepseek_moe_16b", "deepseek-moe-16b"},
      {"r1_distill_llama_8b", "r1-distill-llama-8b"},
      // The instruct model ends turns with <|EOT|>; the preset follows the base model.
      {"deepseek_coder_6_7b_instruct", "deepseek-coder-6.7b",
       [](ModelConfig& c) { c.eos_token_id = 32021; }},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.dir);
    StatusOr<HfConfig> hf = LoadHfConfig(std::string(DSINFER_TEST_DATA_DIR) + "/hf/" + test.dir);
    ASSERT_TRUE(hf.ok()) << hf.status().ToString();
    StatusOr<ModelConfig> config = ModelConfig::FromHfConfig(*hf);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    ModelConfig expected = Preset(test.preset);
    test.tweak(expected);
    EXPECT_TRUE(*config == expected);
  }
}

TEST(ModelConfigValidateTest, ErrorsNameTheField) {
  struct Case {
    std::string preset;
    std::function<void(ModelConfig&)> breakit;
    std::string field;
  };
  const Case cases[] = {
      {"tiny-llama", [](ModelConfig& c) { c.num_attention_heads = 5; }, "num_attention_heads"},
      {"tiny-llama", [](ModelConfig& c) { c.num_key_value_heads = 3; }, "num_key_value_heads"},
      {"tiny-llama", [](ModelConfig& c) { c.vocab_size = 0; }, "vocab_size"},
      {"tiny-llama", [](ModelConfig& c) { c.rms_norm_eps = 0; }, "rms_norm_eps"},
      {"tiny-llama", [](ModelConfig& c) { c.eos_token_id = 512; }, "eos_token_id"},
      {"tiny-llama", [](ModelConfig& c) { c.n_routed_experts = 4; }, "n_routed_experts"},
      {"tiny-llama",
       [](ModelConfig& c) {
         c.rope.scaling = RopeScalingType::kYarn;
         c.rope.factor = 4;
       },
       "original_max_position_embeddings"},
      {"tiny-deepseek", [](ModelConfig& c) { c.num_experts_per_tok = 9; }, "num_experts_per_tok"},
      {"tiny-deepseek", [](ModelConfig& c) { c.first_k_dense_replace = 4; },
       "first_k_dense_replace"},
      {"tiny-deepseek", [](ModelConfig& c) { c.moe_intermediate_size = 0; },
       "moe_intermediate_size"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.topk_group = 5; }, "topk_group"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.n_group = 3; }, "n_group"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.scoring_func = ExpertScoring::kSoftmax; },
       "topk_method"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.qk_rope_head_dim = 7; }, "qk_rope_head_dim"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.kv_lora_rank = 0; }, "kv_lora_rank"},
      {"tiny-deepseek2", [](ModelConfig& c) { c.num_nextn_predict_layers = -1; },
       "num_nextn_predict_layers"},
  };
  for (const Case& test : cases) {
    ModelConfig c = Preset(test.preset);
    test.breakit(c);
    const Status s = c.Validate();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << test.field;
    EXPECT_THAT(s.message(), HasSubstr(test.field));
  }
}

}  // namespace
}  // namespace dsinfer
