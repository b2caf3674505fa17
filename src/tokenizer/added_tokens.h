// AddedTokenMatcher: finds added tokens (special and not) in raw text before anything else
// runs, as HF tokenizers and transformers.js do, so that "<｜end▁of▁sentence｜>" is one token
// and never reaches the pre-tokenizer.
//
// Matching is leftmost-longest over a byte trie. Special tokens are matched only when the
// caller asks (parse_special); non-special added tokens always are (HF's
// encode_special_tokens / llama.cpp's parse_special have the same split). lstrip / rstrip
// eat JavaScript-whitespace on that side of the token (transformers.js trims the
// neighbouring text); single_word rejects a match with a word character (\p{L}\p{N}\p{M}_)
// on either side. Added tokens are matched on the raw text, before normalisation.
//
// Thread safety: immutable after Create(); Split is const and thread-safe.
#ifndef DSINFER_TOKENIZER_ADDED_TOKENS_H_
#define DSINFER_TOKENIZER_ADDED_TOKENS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tokenizer/split_regex.h"

namespace dsinfer::tokenizer {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// A run of ordinary text, or one added token (token_id >= 0).
struct TextSegment {
  std::string_view text;
  int32_t token_id = -1;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // Fails on an empty content or a content that is not valid UTF-8. A content listed twice
  // keeps its last id, as the references do.
  static StatusOr<AddedTokenMatcher> Create(const std::vector<AddedToken>& tokens);

  void Split(std::string_view text, bool parse_special, std::vector<TextSegment>* out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node
    int32_t token = -1;                                 // index into tokens_
  };
  // The end of the longest allowed match starting at `pos`, and its token index; -1 if none.
  std::pair<size_t, int32_t> LongestMatch(std::string_view text, size_t pos,
                                          bool parse_special) const;
  bool IsWordCharAround(std::string_view text, size_t begin, size_t end) const;

  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::array<bool, 256> first_byte_{};
  SplitRegex word_char_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_ADDED_TOKENS_H_
