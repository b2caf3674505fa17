// Metadata keys and tensor names exactly as llama.cpp writes them for the DeepSeek families
// (gguf-py constants.py; shared/reference/deepseek-models.md §6.2-6.4). Readers and writers
// build names here so that a typo cannot make a tensor silently "missing".
//
// Keys under an architecture are "{arch}.{suffix}": ArchKey("deepseek2", kKeyKvLoraRank) is
// "deepseek2.attention.kv_lora_rank". Per-layer tensors are "blk.{layer}.{base}.weight".
#ifndef DSINFER_FORMATS_GGUF_NAMES_H_
#define DSINFER_FORMATS_GGUF_NAMES_H_

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace dsinfer::gguf {

// ---- general.* and tokenizer.* keys ----
inline constexpr std::string_view kKeyArchitecture = "general.architecture";
inline constexpr std::string_view kKeyName = "general.name";
inline constexpr std::string_view kKeyAlignment = "general.alignment";
inline constexpr std::string_view kKeyFileType = "general.file_type";
inline constexpr std::string_view kKeyQuantizationVersion = "general.quantization_version";
inline constexpr std::string_view kKeyTokenizerModel = "tokenizer.ggml.model";
inline constexpr std::string_view kKeyTokenizerPre = "tokenizer.ggml.pre";
inline constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
inline constexpr std::string_view kKeyTokenType = "tokenizer.ggml.token_type";
inline constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";
inline constexpr std::string_view kKeyBosTokenId = "tokenizer.ggml.bos_token_id";
inline constexpr std::string_view kKeyEosTokenId = "tokenizer.ggml.eos_token_id";
inline constexpr std::string_view kKeyPaddingTokenId = "tokenizer.ggml.padding_token_id";
inline constexpr std::string_view kKeyAddBosToken = "tokenizer.ggml.add_bos_token";
inline constexpr std::string_view kKeyAddEosToken = "tokenizer.ggml.add_eos_token";
inline constexpr std::string_view kKeyChatTemplate = "tokenizer.chat_template";

// ---- suffixes of "{arch}." keys ----
inline constexpr std::string_view kKeyContextLength = "context_length";
inline constexpr std::string_view kKeyEmbeddingLength = "embedding_length";
inline constexpr std::string_view kKeyBlockCount = "block_count";
inline constexpr std::string_view kKeyFeedForwardLength = "feed_forward_length";
inline constexpr std::string_view kKeyVocabSize = "vocab_size";
inline constexpr std::string_view kKeyHeadCount = "attention.head_count";
inline constexpr std::string_view kKeyHeadCountKv = "attention.head_count_kv";
inline constexpr std::string_view kKeyRmsEpsilon = "attention.layer_norm_rms_epsilon";
inline constexpr std::string_view kKeyKeyLength = "attention.key_length";
inline constexpr std::string_view kKeyValueLength = "attention.value_length";
inline constexpr std::string_view kKeyKeyLengthMla = "attention.key_length_mla";
inline constexpr std::string_view kKeyValueLengthMla = "attention.value_length_mla";
inline constexpr std::string_view kKeyQLoraRank = "attention.q_lora_rank";
inline constexpr std::string_view kKeyKvLoraRank = "attention.kv_lora_rank";
inline constexpr std::string_view kKeyRopeFreqBase = "rope.freq_base";
inline constexpr std::string_view kKeyRopeDimensionCount = "rope.dimension_count";
inline constexpr std::string_view kKeyRopeScalingType = "rope.scaling.type";
inline constexpr std::string_view kKeyRopeScalingFactor = "rope.scaling.factor";
inline constexpr std::string_view kKeyRopeScalingOrigCtx = "rope.scaling.original_context_length";
inline constexpr std::string_view kKeyRopeScalingYarnLogMul = "rope.scaling.yarn_log_multiplier";
inline constexpr std::string_view kKeyRopeScaleLinear = "rope.scale_linear";  // old files
inline constexpr std::string_view kKeyExpertCount = "expert_count";
inline constexpr std::string_view kKeyExpertUsedCount = "expert_used_count";
inline constexpr std::string_view kKeyExpertSharedCount = "expert_shared_count";
inline constexpr std::string_view kKeyExpertFeedForwardLength = "expert_feed_forward_length";
inline constexpr std::string_view kKeyLeadingDenseBlockCount = "leading_dense_block_count";
inline constexpr std::string_view kKeyExpertWeightsScale = "expert_weights_scale";
inline constexpr std::string_view kKeyExpertWeightsNorm = "expert_weights_norm";
inline constexpr std::string_view kKeyExpertGatingFunc =
    "expert_gating_func";  // 1 softmax, 2 sigmoid
inline constexpr std::string_view kKeyExpertGroupCount = "expert_group_count";
inline constexpr std::string_view kKeyExpertGroupUsedCount = "expert_group_used_count";
inline constexpr std::string_view kKeyNextnPredictLayers = "nextn_predict_layers";

inline std::string ArchKey(std::string_view arch, std::string_view suffix) {
  return fmt::format("{}.{}", arch, suffix);
}

// ---- tensors ----
inline constexpr std::string_view kTokenEmbd = "token_embd.weight";
inline constexpr std::string_view kOutputNorm = "output_norm.weight";
inline constexpr std::string_view kOutput = "output.weight";
inline constexpr std::string_view kRopeFreqs = "rope_freqs.weight";

// Bases of per-layer tensors: LayerTensor(3, kAttnQ) is "blk.3.attn_q.weight".
inline constexpr std::string_view kAttnNorm = "attn_norm";
inline constexpr std::string_view kAttnQ = "attn_q";
inline constexpr std::string_view kAttnK = "attn_k";
inline constexpr std::string_view kAttnV = "attn_v";
inline constexpr std::string_view kAttnOutput = "attn_output";
inline constexpr std::string_view kAttnQA = "attn_q_a";
inline constexpr std::string_view kAttnQANorm = "attn_q_a_norm";
inline constexpr std::string_view kAttnQB = "attn_q_b";
inline constexpr std::string_view kAttnKvAMqa = "attn_kv_a_mqa";
inline constexpr std::string_view kAttnKvANorm = "attn_kv_a_norm";
inline constexpr std::string_view kAttnKB = "attn_k_b";
inline constexpr std::string_view kAttnVB = "attn_v_b";
inline constexpr std::string_view kAttnKvB = "attn_kv_b";  // legacy MLA files
inline constexpr std::string_view kFfnNorm = "ffn_norm";
inline constexpr std::string_view kFfnGate = "ffn_gate";
inline constexpr std::string_view kFfnUp = "ffn_up";
inline constexpr std::string_view kFfnDown = "ffn_down";
inline constexpr std::string_view kFfnGateInp = "ffn_gate_inp";
inline constexpr std::string_view kFfnGateExps = "ffn_gate_exps";
inline constexpr std::string_view kFfnUpExps = "ffn_up_exps";
inline constexpr std::string_view kFfnDownExps = "ffn_down_exps";
inline constexpr std::string_view kFfnGateShexp = "ffn_gate_shexp";
inline constexpr std::string_view kFfnUpShexp = "ffn_up_shexp";
inline constexpr std::string_view kFfnDownShexp = "ffn_down_shexp";
inline constexpr std::string_view kExpProbsB = "exp_probs_b";  // V3 router bias: ".bias"

inline std::string LayerTensor(int64_t layer, std::string_view base,
                               std::string_view suffix = "weight") {
  return fmt::format("blk.{}.{}.{}", layer, base, suffix);
}

}  // namespace dsinfer::gguf

#endif  // DSINFER_FORMATS_GGUF_NAMES_H_
