// libFuzzer target for ParseHfConfig and ParseGenerationConfig: any bytes must give a config or
// a Status that says something, never a crash, an exception, a sanitizer report or a huge
// allocation. Seeds: tests/data/hf_config/ (the fixture configs and a few broken ones).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/generation_config.h"
#include "formats/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto config = dsinfer::ParseHfConfig(text, "fuzz/config.json");
  if (config.ok()) {
    // What validation promises the model code.
    if (config->hidden_size <= 0 || config->num_hidden_layers <= 0 ||
        config->num_attention_heads <= 0 || config->num_key_value_heads <= 0 ||
        config->num_attention_heads % config->num_key_value_heads != 0 || config->vocab_size <= 0 ||
        config->hidden_act != "silu" || config->mlp_bias) {
      std::abort();
    }
    if (config->is_moe() && (config->num_experts_per_tok <= 0 ||
                             config->num_experts_per_tok > config->n_routed_experts)) {
      std::abort();
    }
  } else if (config.status().message().empty()) {
    std::abort();
  }

  auto generation = dsinfer::ParseGenerationConfig(text, "fuzz/generation_config.json");
  if (generation.ok()) {
    if (generation->top_p && !(*generation->top_p > 0 && *generation->top_p <= 1)) std::abort();
    if (generation->temperature && !(*generation->temperature >= 0)) std::abort();
  } else if (generation.status().message().empty()) {
    std::abort();
  }
  return 0;
}
