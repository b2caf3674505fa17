// PreTokenizer: the chain that cuts normalised text into pieces before BPE (tokenizer.json's
// "pre_tokenizer": Sequence of Split / ByteLevel / Digits; GGUF's tokenizer.ggml.pre presets).
//
// Each step maps every current piece to sub-pieces, in order. Split follows HF tokenizers'
// SplitDelimiterBehavior (Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous)
// and `invert`; ByteLevel optionally splits with GPT-2's regex and optionally prepends a
// space; Digits splits \p{N} runs (or single \p{N}). The byte-level mapping itself is left to
// BpeModel, which works on raw bytes.
//
// Thread safety: immutable after construction; Split is const and thread-safe.
#ifndef DSINFER_TOKENIZER_PRE_TOKENIZER_H_
#define DSINFER_TOKENIZER_PRE_TOKENIZER_H_

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "tokenizer/split_regex.h"

namespace dsinfer::tokenizer {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct SplitStep {
  SplitRegex regex;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};

struct ByteLevelStep {
  bool add_prefix_space = false;
  bool use_regex = true;
};

struct DigitsStep {
  bool individual_digits = false;
};

using PreTokenizerStep = std::variant<SplitStep, ByteLevelStep, DigitsStep>;

// The ByteLevel pre-tokenizer's own regex (GPT-2's), as the references write it.
inline constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

class PreTokenizer {
 public:
  PreTokenizer() = default;
  // Compiles the regexes ByteLevel and Digits steps need.
  static StatusOr<PreTokenizer> Create(std::vector<PreTokenizerStep> steps);

  // Appends the pieces of `text` to `pieces`. Pieces view `text` or strings added to
  // `storage` (a prefix space makes a new string); both must outlive the pieces.
  Status Split(std::string_view text, std::vector<std::string_view>* pieces,
               std::deque<std::string>* storage) const;

  bool has_byte_level() const;
  size_t num_steps() const { return steps_.size(); }

 private:
  std::vector<PreTokenizerStep> steps_;
  // Parallel to steps_: the regex a ByteLevel(use_regex) or Digits step runs.
  std::vector<std::optional<SplitStep>> derived_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_PRE_TOKENIZER_H_
