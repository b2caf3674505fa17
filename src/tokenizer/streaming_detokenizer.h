// StreamingDetokenizer: turns ids into text one id at a time for streamed responses. Only
// complete UTF-8 leaves it: a byte-level token that ends inside a multi-byte character is
// held back until the next tokens complete it. Bytes that can never form a character become
// U+FFFD as soon as that is certain; Flush() ends the stream and turns a held-back partial
// character into U+FFFD too. The concatenated output equals Tokenizer::Decode of all ids.
//
// Thread safety: one per stream, not thread-safe; the Tokenizer must outlive it.
#ifndef DSINFER_TOKENIZER_STREAMING_DETOKENIZER_H_
#define DSINFER_TOKENIZER_STREAMING_DETOKENIZER_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::tokenizer {

class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer* tokenizer, DecodeOptions options = {})
      : tokenizer_(tokenizer), options_(options) {}

  // The text that `id` completes (often empty while a character is split). An id outside the
  // vocabulary is InvalidArgument and leaves the stream as it was.
  StatusOr<std::string> Feed(int32_t id);
  // Whatever is still held back, as U+FFFD; the stream may then be reused.
  std::string Flush();

 private:
  const Tokenizer* tokenizer_;
  DecodeOptions options_;
  std::string pending_;  // at most 3 bytes: a proper prefix of one UTF-8 character
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_STREAMING_DETOKENIZER_H_
