// KvStorage's F16 store: the bytes written are Fp32ToFp16's of every value (it goes through the
// selected level's F16 row quantiser, which must agree with the reference everywhere), in the
// slot the block table names, for standard K and V rows and for MLA latent rows (tiny-v2-lite's
// are 40 wide: two full vectors and a tail).
#include "model/kv_storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "model/model_presets.h"
#include "quant/half.h"

namespace dsinfer {
namespace {

// Values across the F16 range and past it: signs, subnormal results, overflow, inf, NaN.
std::vector<float> AwkwardValues(int64_t n) {
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f / 3.0f,
                            -65504.0f,
                            65520.0f,
                            1e-7f,
                            -6e-8f,
                            1e30f,
                            std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            2.5f,
                            -1.0009765625f};
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[static_cast<size_t>(i)] =
        specials[i % std::size(specials)] * (1.0f + 0.001f * static_cast<float>(i));
  }
  return v;
}

std::vector<uint16_t> HalvesAt(std::span<const std::byte> pool, int64_t slot, int64_t width) {
  std::vector<uint16_t> out(static_cast<size_t>(width));
  std::memcpy(out.data(), pool.data() + slot * width * 2, out.size() * 2);
  return out;
}

std::vector<uint16_t> Reference(const std::vector<float>& values) {
  std::vector<uint16_t> out(values.size());
  std::transform(values.begin(), values.end(), out.begin(), Fp32ToFp16);
  return out;
}

TEST(KvStorage, F16StoreWritesTheReferenceHalvesInTheNamedSlot) {
  for (const char* preset : {"tiny-llama", "tiny-v2-lite"}) {
    SCOPED_TRACE(preset);
    StatusOr<ModelConfig> config = ModelPreset(preset);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    StatusOr<KvStorage> kv =
        KvStorage::Create(*config, {.n_blocks = 3, .block_size = 4, .dtype = DType::kF16});
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    const std::vector<int32_t> table = {2, 0};  // position 5: block 0, slot 1
    const int64_t position = 5;
    const int64_t slot = 0 * 4 + 1;
    const int64_t layer = config->num_hidden_layers - 1;
    if (kv->is_latent()) {
      const PagedLatentCache latent = kv->Latent(layer);
      const int64_t width = latent.kv_lora_rank + latent.qk_rope_head_dim;
      const std::vector<float> values = AwkwardValues(width);
      kv->StoreLatent(layer, table, position, values.data());
      EXPECT_EQ(HalvesAt(kv->Latent(layer).pool, slot, width), Reference(values));
    } else {
      const PagedKvCache cache = kv->Kv(layer);
      const int64_t width_k = cache.n_kv_heads * cache.head_dim_k;
      const int64_t width_v = cache.n_kv_heads * cache.head_dim_v;
      const std::vector<float> k = AwkwardValues(width_k);
      std::vector<float> v = AwkwardValues(width_v);
      std::reverse(v.begin(), v.end());  // not the same row as k
      kv->StoreK(layer, table, position, k.data());
      kv->StoreV(layer, table, position, v.data());
      EXPECT_EQ(HalvesAt(kv->Kv(layer).k_pool, slot, width_k), Reference(k));
      EXPECT_EQ(HalvesAt(kv->Kv(layer).v_pool, slot, width_v), Reference(v));
    }
  }
}

}  // namespace
}  // namespace dsinfer
