// Normalizer: the text rewrites tokenizer.json may ask for before pre-tokenization. Only the
// simple, locale-free ones are supported (Prepend, Replace, Strip, and Sequences of them);
// Unicode normalisation forms and case mapping need tables this build does not carry, so the
// loader refuses them with a clear Unimplemented error rather than tokenizing differently.
// DeepSeek-V3, Qwen2 and Llama 3 use none (null or an empty Sequence).
//
// Thread safety: immutable after construction; Apply is const and thread-safe.
#ifndef DSINFER_TOKENIZER_NORMALIZER_H_
#define DSINFER_TOKENIZER_NORMALIZER_H_

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "tokenizer/split_regex.h"

namespace dsinfer::tokenizer {

struct PrependStep {
  std::string prefix;
};
struct ReplaceStep {
  SplitRegex pattern;
  std::string content;
};
struct StripStep {
  bool left = false;
  bool right = false;
};
using NormalizerStep = std::variant<PrependStep, ReplaceStep, StripStep>;

class Normalizer {
 public:
  Normalizer() = default;
  explicit Normalizer(std::vector<NormalizerStep> steps) : steps_(std::move(steps)) {}

  bool empty() const { return steps_.empty(); }
  StatusOr<std::string> Apply(std::string_view text) const;

 private:
  std::vector<NormalizerStep> steps_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_NORMALIZER_H_
