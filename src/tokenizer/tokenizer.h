// Tokenizer: text <-> token ids for the byte-level BPE families dsinfer runs (DeepSeek
// LLM/Coder/V2/V3/R1, Qwen2 and Llama 3 distills). Built by the tokenizer.json loader
// (tokenizer_json.h) or the GGUF loader (tokenizer_gguf.h), which fill a TokenizerSpec.
//
// Encode, in the reference order (HF tokenizers / transformers.js):
//   1. invalid UTF-8 input -> each maximal ill-formed subpart becomes U+FFFD (utf8_repair.h)
//   2. added tokens split out first (added_tokens.h; special ones only with parse_special)
//   3. each remaining run: normalizer -> pre-tokenizer pieces -> BPE per piece
// Decode maps ids to their bytes (added tokens as their literal text, others through the
// byte-level alphabet); StreamingDetokenizer (streaming_detokenizer.h) does it incrementally.
//
// Thread safety: immutable after Create(); every method is const and thread-safe. Cheap to
// move, expensive to copy (vocabulary maps): pass by reference or pointer.
#ifndef DSINFER_TOKENIZER_TOKENIZER_H_
#define DSINFER_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"

namespace dsinfer::tokenizer {

struct TokenizerSpec {
  BpeModelSpec model;
  std::vector<AddedToken> added_tokens;
  std::vector<PreTokenizerStep> pre_tokenizer;
  Normalizer normalizer;
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  bool add_bos = false;
  bool add_eos = false;
  std::string chat_template;  // the raw Jinja source; "" when the model has none
};

struct EncodeOptions {
  bool parse_special = false;  // match special tokens' text; off: tokenize it as plain text
  bool add_bos = false;        // prepend bos_id (when the model has one)
};

struct DecodeOptions {
  bool skip_special = false;
};

class Tokenizer {
 public:
  // Validates the spec (the pre-tokenizer must end in byte-level BPE; ids in range).
  static StatusOr<Tokenizer> Create(TokenizerSpec spec);

  // Fails only on a regex engine limit (ResourceExhausted), never on the text itself.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, const EncodeOptions& options) const;

  // Raw bytes of the ids, concatenated (may end inside a UTF-8 character). An id outside the
  // vocabulary is InvalidArgument naming it.
  StatusOr<std::string> DecodeBytes(std::span<const int32_t> ids,
                                    const DecodeOptions& options = {}) const;
  // DecodeBytes with ill-formed UTF-8 replaced by U+FFFD: always printable text.
  StatusOr<std::string> Decode(std::span<const int32_t> ids,
                               const DecodeOptions& options = {}) const;

  // The raw bytes one id stands for; nullopt if the id is not in the vocabulary.
  std::optional<std::string_view> TokenBytes(int32_t id) const;
  bool IsSpecial(int32_t id) const;

  int32_t vocab_size() const { return static_cast<int32_t>(id_bytes_.size()); }
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  const std::string& chat_template() const { return chat_template_; }
  // The id of an added token or vocabulary entry with this exact text (byte-level text for
  // ordinary tokens), e.g. to resolve "<｜end▁of▁sentence｜>".
  std::optional<int32_t> FindToken(std::string_view text) const;

 private:
  Status EncodeRun(std::string_view text, std::vector<int32_t>* ids) const;

  BpeModel model_;
  AddedTokenMatcher added_;
  std::vector<AddedToken> added_tokens_;
  PreTokenizer pre_tokenizer_;
  Normalizer normalizer_;
  std::vector<std::string> id_bytes_;  // by id; empty string for holes
  std::vector<uint8_t> id_flags_;      // by id: kPresent | kSpecial
  std::optional<int32_t> bos_id_;
  std::optional<int32_t> eos_id_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  std::string chat_template_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_TOKENIZER_H_
