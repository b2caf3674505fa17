// ReasoningSplitter: separates a reasoning model's "thinking" from its answer in generated
// text, at <think> ... </think> (DeepSeek-R1 and its distills), chunk by chunk as tokens
// stream out.
//
// State machine with two states, reasoning and answer. In the answer state an open tag
// switches to reasoning; in the reasoning state a close tag switches to the answer. Tags are
// dropped; all other text goes, unchanged (whitespace included), to the current state's
// output. Start in the reasoning state when the prompt already opened the block (R1's chat
// template ends the generation prompt with "<think>\n"), so the model's output begins inside
// it and contains only the close tag.
//
// Streaming: text that could be the beginning of the tag being watched for (a chunk ending in
// "</th") is held back until the next chunk decides it, so a partial tag is never emitted;
// Finish() releases what is held (an unfinished tag at the end is ordinary text).
// Concatenating all deltas gives exactly what a single Split() of the whole text gives.
//
// Thread safety: a splitter belongs to one stream; not synchronised.
#ifndef DSINFER_TOKENIZER_REASONING_H_
#define DSINFER_TOKENIZER_REASONING_H_

#include <string>
#include <string_view>

namespace dsinfer::tokenizer {

struct ReasoningDelta {
  std::string reasoning;
  std::string answer;
};

struct ReasoningOptions {
  std::string open_tag = "<think>";
  std::string close_tag = "</think>";
  bool starts_in_reasoning = false;  // the prompt already opened the reasoning block
};

class ReasoningSplitter {
 public:
  explicit ReasoningSplitter(ReasoningOptions options = {});

  // Text of the next chunk; returns what can be emitted now.
  ReasoningDelta Feed(std::string_view chunk);
  // End of stream: releases held-back text.
  ReasoningDelta Finish();

  bool in_reasoning() const { return in_reasoning_; }
  // True once a close tag has been seen (the answer has started).
  bool reasoning_closed() const { return closed_; }

 private:
  ReasoningOptions options_;
  bool in_reasoning_;
  bool closed_ = false;
  std::string pending_;  // held back: a prefix of the tag being watched for
};

// The whole text at once.
ReasoningDelta SplitReasoning(std::string_view text, const ReasoningOptions& options = {});

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_REASONING_H_
