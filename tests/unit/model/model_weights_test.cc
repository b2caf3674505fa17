// Binding weights to a config: broken models fail at load with the tensor named.
#include "model/model_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "model/weight_store.h"
#include "model_test_util.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"

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

// A legacy file's attn_kv_b is cut at load into attn_k_b (K rows transposed, in the file's type
// where it is F16 or BF16, in Q8_0 where it is a block type whose rows the head dim fills, else
// F32) and attn_v_b (the file's V rows, byte for byte), over a pool's threads.
TEST(ModelWeightsTest, FusedKvBIsCutIntoHeadsOfCompactTypes) {
  struct Case {
    const char* preset;
    DType file_type;
    DType k_type;
  };
  ThreadPool pool(2);
  for (const Case& c :
       {Case{"tiny-r1", DType::kQ4_0, DType::kQ8_0}, Case{"tiny-r1", DType::kQ8_0, DType::kQ8_0},
        Case{"tiny-r1", DType::kF16, DType::kF16},
        Case{"tiny-deepseek2", DType::kQ4_0, DType::kF32}}) {
    SCOPED_TRACE(std::string(c.preset) + " " + std::string(DTypeName(c.file_type)));
    const ModelConfig config = *ModelPreset(c.preset);
    testing::TempPath path("fused_kv_b.gguf");
    ASSERT_TRUE(WriteRandomGguf(
                    config,
                    {.dtype = c.file_type, .seed = 3, .layout = {.kv_b_form = MlaKvBForm::kFused}},
                    path.path())
                    .ok());
    StatusOr<GgufFile> file = GgufFile::Open(path.path());
    ASSERT_TRUE(file.ok());
    WeightStore store = WeightStore::FromGguf(std::make_shared<const GgufFile>(std::move(*file)));
    const TensorView kv_b = *store.Find("blk.0.attn_kv_b.weight");
    ASSERT_EQ(kv_b.dtype, c.file_type);
    const int64_t h = config.num_attention_heads;
    const int64_t dn = config.qk_nope_head_dim;
    const int64_t dv = config.v_head_dim;
    const int64_t rkv = config.kv_lora_rank;
    std::vector<float> kv(static_cast<size_t>(h * (dn + dv) * rkv));
    ASSERT_TRUE(DequantizeRows(kv_b.dtype, kv_b.bytes, rkv, kv).ok());
    StatusOr<ModelWeights> w = ModelWeights::Bind(config, store, {}, &pool);
    ASSERT_TRUE(w.ok()) << w.status().ToString();

    const TensorView* k_b = store.Find("blk.0.attn_k_b.weight");
    const TensorView* v_b = store.Find("blk.0.attn_v_b.weight");
    ASSERT_NE(k_b, nullptr);
    ASSERT_NE(v_b, nullptr);
    EXPECT_EQ(k_b->dtype, c.k_type);
    EXPECT_EQ(k_b->shape, (Shape{h, rkv, dn}));
    EXPECT_EQ(v_b->dtype, c.file_type);
    EXPECT_EQ(v_b->shape, (Shape{h, dv, rkv}));
    const int64_t row_bytes = kv_b.row_bytes();
    for (int64_t head = 0; head < h; ++head) {
      const std::byte* v_rows = kv_b.bytes.data() + (head * (dn + dv) + dn) * row_bytes;
      EXPECT_EQ(std::memcmp(v_b->bytes.data() + head * dv * row_bytes, v_rows,
                            static_cast<size_t>(dv * row_bytes)),
                0)
          << "head " << head;
    }
    std::vector<float> k(static_cast<size_t>(h * rkv * dn));
    ASSERT_TRUE(DequantizeRows(k_b->dtype, k_b->bytes, dn, k).ok());
    double worst = 0;  // in Q8_0 steps of the block's max|value| / 127
    for (int64_t head = 0; head < h; ++head) {
      for (int64_t r = 0; r < rkv; ++r) {
        const float* got = k.data() + (head * rkv + r) * dn;
        for (int64_t b = 0; b < dn; b += 32) {
          float amax = 0;
          for (int64_t d = b; d < std::min(dn, b + 32); ++d) {
            amax = std::max(amax,
                            std::fabs(kv[static_cast<size_t>((head * (dn + dv) + d) * rkv + r)]));
          }
          for (int64_t d = b; d < std::min(dn, b + 32); ++d) {
            const float want = kv[static_cast<size_t>((head * (dn + dv) + d) * rkv + r)];
            if (c.k_type != DType::kQ8_0) {
              ASSERT_EQ(got[d], want) << "head " << head << " row " << r << " col " << d;
            } else if (amax > 0) {
              worst = std::max(worst, std::fabs(double{got[d]} - want) / (amax / 127.0));
            }
          }
        }
      }
    }
    // Half a step, and the f16 step's own rounding over levels up to 127: 127 * 2^-11 more.
    EXPECT_LE(worst, 0.57);
    if (c.k_type == DType::kQ8_0) {
      EXPECT_GT(worst, 0.1);  // it was rounded, not copied
    }
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
