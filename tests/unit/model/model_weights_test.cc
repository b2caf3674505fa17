// Binding weights to a config: broken models fail at load with the tensor named.
#include "model/model_weights.h"

#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model/weight_store.h"
#include "model_test_util.h"

namespace dsinfer {
namespace {

// A store holding copies of every tensor of a random tiny model, except that `drop` is left
// out and `reshape` gets the shape `new_shape`.
struct Fixture {
  ModelConfig config;
  WeightStore store;
};

Fixture MakeStore(const std::string& preset, const std::string& drop, const std::string& reshape,
                  const Shape& new_shape) {
  testing::TempPath path(preset + "_bind.gguf");
  Fixture f;
  f.config = *ModelPreset(preset);
  EXPECT_TRUE(WriteRandomGguf(f.config, {.dtype = DType::kF32, .seed = 1}, path.path()).ok());
  StatusOr<GgufFile> file = GgufFile::Open(path.path());
  EXPECT_TRUE(file.ok());
  for (const GgufTensorInfo& t : file->tensors()) {
    if (t.name == drop) continue;
    Shape shape = t.view.shape;
    size_t bytes = t.view.bytes.size();
    if (t.name == reshape) {
      shape = new_shape;
      bytes = static_cast<size_t>(*shape.NumBytes(t.dtype));
    }
    AlignedBuffer data(bytes);
    std::memcpy(data.data(), t.view.bytes.data(), std::min(bytes, t.view.bytes.size()));
    EXPECT_TRUE(f.store.AddOwned(t.name, t.dtype, shape, std::move(data)).ok());
  }
  return f;
}

TEST(ModelWeightsTest, BindsEveryArch) {
  for (const char* preset : {"tiny-llama", "tiny-qwen2", "tiny-deepseek", "tiny-deepseek2",
                             "tiny-v2-lite", "tiny-llama3"}) {
    Fixture f = MakeStore(preset, "", "", {});
    StatusOr<ModelWeights> w = ModelWeights::Bind(f.config, f.store, {}, nullptr);
    ASSERT_TRUE(w.ok()) << preset << ": " << w.status().ToString();
    EXPECT_EQ(w->layers.size(), static_cast<size_t>(f.config.num_hidden_layers));
  }
}

TEST(ModelWeightsTest, MissingTensorIsNamed) {
  Fixture f = MakeStore("tiny-deepseek2", "blk.1.ffn_up_exps.weight", "", {});
  StatusOr<ModelWeights> w = ModelWeights::Bind(f.config, f.store, {}, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("'blk.1.ffn_up_exps.weight' is missing"), std::string::npos)
      << w.status().ToString();
}

TEST(ModelWeightsTest, WrongShapeIsNamed) {
  Fixture f = MakeStore("tiny-qwen2", "", "blk.0.attn_k.weight", Shape{64, 32});
  StatusOr<ModelWeights> w = ModelWeights::Bind(f.config, f.store, {}, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("'blk.0.attn_k.weight' has shape [64, 32]"),
            std::string::npos)
      << w.status().ToString();
}

TEST(ModelWeightsTest, ConfigMismatchIsNamed) {
  Fixture f = MakeStore("tiny-llama", "", "", {});
  f.config.intermediate_size *= 2;  // metadata says one width, the tensors another
  StatusOr<ModelWeights> w = ModelWeights::Bind(f.config, f.store, {}, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("blk.0.ffn_gate.weight"), std::string::npos)
      << w.status().ToString();
}

}  // namespace
}  // namespace dsinfer
