// StopChecker: decides, token by token, when a request's generation ends and which text may be
// streamed to the client, as OpenAI and vLLM do.
//
//   stop token   eos (unless ignore_eos) or one of stop_token_ids: finish "stop"; the token's
//                own text is not output
//   stop string  finish "stop" at the first occurrence in the generated text (earliest start
//                when several stops match); the output ends just before it
//   max_tokens   finish "length" once that many tokens are generated (checked last, so a token
//                that both stops and reaches the limit finishes "stop", as in vLLM)
//
// Stop strings may straddle token boundaries, so text that ends with a proper prefix of some
// stop string is held back until the next piece decides it (only that suffix, not a fixed
// window: "x" is emitted at once when the stops are "ab" and "aab"). A stop string can only
// match starting inside the held-back suffix or the new piece, so each call searches
// O(longest stop + piece) bytes. Matching is on bytes; pieces are complete UTF-8 (as the
// streaming detokeniser emits them) and stop strings start with a lead byte, so emitted text
// never splits a character.
//
// Thread safety: one per request, used by one thread at a time.
#ifndef DSINFER_SAMPLING_STOP_CHECKER_H_
#define DSINFER_SAMPLING_STOP_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/sampling_params.h"

namespace dsinfer::sampling {

enum class FinishReason { kStop, kLength };

// OpenAI's finish_reason: "stop" or "length".
std::string_view FinishReasonName(FinishReason reason);

struct StopUpdate {
  std::string_view text;                      // safe to send now; valid until the next call
  std::optional<FinishReason> finish_reason;  // set once generation is over
  // vLLM's stop_reason: the stop string or stop token id that ended it (none for eos or
  // length).
  std::optional<std::string_view> stop_string;
  std::optional<int32_t> stop_token;

  bool finished() const { return finish_reason.has_value(); }
};

class StopChecker {
 public:
  // `eos_token_id`: the model's end of sequence token, if it has one. Copies what it needs
  // from `params`, which has passed Validate().
  StopChecker(const SamplingParams& params, std::optional<int32_t> eos_token_id);

  // One generated token and the text the detokeniser produced for it (may be empty). Must not
  // be called after an update that finished.
  StopUpdate Append(int32_t token, std::string_view piece);

  // Ends a stream that stopped for another reason (cancelled, context full): the held-back
  // text, which no stop string can complete any more.
  std::string_view Flush();

  int64_t generated_tokens() const { return generated_tokens_; }
  bool finished() const { return finished_; }

 private:
  // Moves the first `n` pending bytes to emitted_ and returns them.
  std::string_view Emit(size_t n);
  // Length of the longest suffix of pending_ that is a proper prefix of a stop string.
  size_t HeldBackLength() const;

  std::vector<std::string> stop_strings_;
  std::vector<int32_t> stop_token_ids_;  // includes eos unless ignore_eos
  std::optional<int32_t> max_tokens_;
  int64_t generated_tokens_ = 0;
  bool finished_ = false;
  std::string pending_;  // held back: a proper prefix of some stop string, plus the new piece
  std::string emitted_;  // the text of the last update
};

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_STOP_CHECKER_H_
