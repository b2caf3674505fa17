// Binding weights to a config: broken models fail at load with the tensor named.
#include "model/model_weights.h"

#include <cstring>
#include <memory>
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model/weight_store.h"
#include "model_test_util.h"
#include "platform/thread_pool.h"

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

// A type without a packed layout (F32 here) is copied into the arena only where the store maps
// it from the file: tensors the store owns (HF conversions) stay where they are.
TEST(ModelWeightsTest, CopiesOnlyTheMappedRows) {
  const std::string down = "blk.0.ffn_down.weight";
  Fixture owned = MakeStore("tiny-llama", "", "", {});
  EXPECT_FALSE(owned.store.IsMapped(down));
  StatusOr<ModelWeights> from_owned = ModelWeights::Bind(owned.config, owned.store, {}, nullptr);
  ASSERT_TRUE(from_owned.ok()) << from_owned.status().ToString();
  EXPECT_EQ(from_owned->packed_arena.capacity(), 0U);
  EXPECT_EQ(from_owned->layers[0].mlp->down.view.bytes.data(),
            owned.store.Find(down)->bytes.data());

  // The FFN matrices over 2 MiB, so that the copy takes several pieces.
  ModelConfig config = owned.config;
  config.intermediate_size = (int64_t{5} << 20) / (4 * config.hidden_size);
  testing::TempPath path("tiny-llama_mapped.gguf");
  ASSERT_TRUE(WriteRandomGguf(config, {.dtype = DType::kF32, .seed = 1}, path.path()).ok());
  StatusOr<GgufFile> file = GgufFile::Open(path.path());
  ASSERT_TRUE(file.ok());
  WeightStore mapped = WeightStore::FromGguf(std::make_shared<const GgufFile>(std::move(*file)));
  EXPECT_TRUE(mapped.IsMapped(down));
  EXPECT_FALSE(mapped.IsMapped("absent.weight"));
  ThreadPool pool(2);
  StatusOr<ModelWeights> from_mapped = ModelWeights::Bind(config, mapped, {}, &pool);
  ASSERT_TRUE(from_mapped.ok()) << from_mapped.status().ToString();
  const HugePageArena& arena = from_mapped->packed_arena;
  EXPECT_GT(arena.used(), 0U);
  EXPECT_EQ(arena.used(), arena.capacity());
  const std::span<const std::byte> copy = from_mapped->layers[0].mlp->down.view.bytes;
  const std::span<const std::byte> stored = mapped.Find(down)->bytes;
  EXPECT_NE(copy.data(), stored.data());
  ASSERT_EQ(copy.size(), stored.size());
  EXPECT_GT(copy.size(), size_t{4} << 20);
  EXPECT_EQ(std::memcmp(copy.data(), stored.data(), copy.size()), 0);

  // Past the budget for copies they are read in place.
  StatusOr<ModelWeights> over_budget =
      ModelWeights::Bind(config, mapped, {.row_copy_budget_bytes = copy.size()}, &pool);
  ASSERT_TRUE(over_budget.ok()) << over_budget.status().ToString();
  EXPECT_EQ(over_budget->packed_arena.capacity(), 0U);
  EXPECT_EQ(over_budget->layers[0].mlp->down.view.bytes.data(), stored.data());

  AlignedBuffer extra(stored.size());
  ASSERT_TRUE(mapped.AddOwned(down, DType::kF32, mapped.Find(down)->shape, std::move(extra)).ok());
  EXPECT_FALSE(mapped.IsMapped(down));  // replaced by an owned tensor
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
