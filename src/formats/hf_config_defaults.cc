#include "formats/hf_config_defaults.h"

namespace dsinfer {

HfConfig HfConfigDefaults(HfModelType type) {
  HfConfig c;
  c.model_type = type;
  switch (type) {
    case HfModelType::kLlama:
      // transformers models/llama/configuration_llama.py, LlamaConfig.
      c.vocab_size = 32000;
      c.hidden_size = 4096;
      c.intermediate_size = 11008;
      c.num_hidden_layers = 32;
      c.num_attention_heads = 32;
      c.max_position_embeddings = 2048;
      c.bos_token_id = 1;
      c.eos_token_ids = {2};
      break;
    case HfModelType::kQwen2:
      // transformers models/qwen2/configuration_qwen2.py, Qwen2Config (no bos/eos defaults).
      c.vocab_size = 151936;
      c.hidden_size = 4096;
      c.intermediate_size = 22016;
      c.num_hidden_layers = 32;
      c.num_attention_heads = 32;
      c.num_key_value_heads = 32;
      c.max_position_embeddings = 32768;
      c.sliding_window = 4096;
      c.max_window_layers = 28;
      break;
    case HfModelType::kDeepseek:
      // DeepseekConfig.__init__ of the remote code shipped with deepseek-ai/deepseek-moe-16b-base
      // and -chat (configuration_deepseek.py, lines 107-179 of the initial commit d023728):
      // read from a verbatim quotation of those lines found through the code search corpus
      // (the Hugging Face file itself was not reachable), and matching the docstring of its
      // derived copies (e.g. cognitivecomputations/DeepMixtral-8x7b-Instruct). The class has
      // no topk_method, n_group, topk_group or routed_scaling_factor: its MoEGate only runs a
      // softmax top-k ("greedy"), unscaled.
      c.vocab_size = 102400;
      c.hidden_size = 4096;
      c.intermediate_size = 11008;
      c.moe_intermediate_size = 1407;
      c.num_hidden_layers = 30;
      c.num_attention_heads = 32;
      c.num_key_value_heads = 32;
      c.n_shared_experts = 0;     // None
      c.n_routed_experts = 0;     // None: every layer dense
      c.num_experts_per_tok = 0;  // None
      c.moe_layer_freq = 1;
      c.first_k_dense_replace = 0;
      c.norm_topk_prob = false;
      c.scoring_func = "softmax";
      c.topk_method = "greedy";
      c.hidden_act = "silu";
      c.max_position_embeddings = 2048;
      c.rms_norm_eps = 1e-6;
      c.pad_token_id = std::nullopt;
      c.bos_token_id = 100000;
      c.eos_token_ids = {100001};
      c.tie_word_embeddings = false;
      c.rope_theta = 10000.0;
      c.attention_bias = false;
      break;
    case HfModelType::kDeepseekV2:
      // transformers models/deepseek_v2/configuration_deepseek_v2.py, DeepseekV2Config. Keys
      // that class lacks (scoring_func, moe_layer_freq) take the defaults of DeepSeek's remote
      // DeepseekV2Config, which also differs in vocab 102400, bos/eos 100000/100001,
      // n_routed/n_shared None and 30 layers; real V2 configs set all of these.
      c.vocab_size = 32000;
      c.hidden_size = 4096;
      c.intermediate_size = 11008;
      c.num_hidden_layers = 32;
      c.num_attention_heads = 32;
      c.max_position_embeddings = 2048;
      c.bos_token_id = 1;
      c.eos_token_ids = {2};
      c.moe_intermediate_size = 1407;
      c.n_routed_experts = 64;
      c.n_shared_experts = 2;
      c.topk_method = "greedy";
      c.scoring_func = "softmax";
      c.q_lora_rank = 1536;
      c.kv_lora_rank = 512;
      c.qk_nope_head_dim = 128;
      c.qk_rope_head_dim = 64;
      c.v_head_dim = 128;
      break;
    case HfModelType::kDeepseekV3:
      // transformers models/deepseek_v3/configuration_deepseek_v3.py, DeepseekV3Config; keys
      // it lacks (topk_method, scoring_func, moe_layer_freq, num_nextn_predict_layers) from
      // the remote DeepseekV3Config shipped with deepseek-ai/DeepSeek-V3 (same values else).
      c.vocab_size = 129280;
      c.hidden_size = 7168;
      c.intermediate_size = 18432;
      c.moe_intermediate_size = 2048;
      c.num_hidden_layers = 61;
      c.num_attention_heads = 128;
      c.num_key_value_heads = 128;
      c.max_position_embeddings = 4096;
      c.bos_token_id = 0;
      c.eos_token_ids = {1};
      c.n_routed_experts = 256;
      c.n_shared_experts = 1;
      c.num_experts_per_tok = 8;
      c.first_k_dense_replace = 3;
      c.n_group = 8;
      c.topk_group = 4;
      c.topk_method = "noaux_tc";
      c.scoring_func = "sigmoid";
      c.routed_scaling_factor = 2.5;
      c.norm_topk_prob = true;
      c.q_lora_rank = 1536;
      c.kv_lora_rank = 512;
      c.qk_nope_head_dim = 128;
      c.qk_rope_head_dim = 64;
      c.v_head_dim = 128;
      c.num_nextn_predict_layers = 1;
      break;
  }
  return c;
}

}  // namespace dsinfer
