// ForwardBatch: what one forward step computes. The runner flattens the scheduler's plan
// into it: every scheduled sequence contributes a contiguous slice of new tokens (a prompt
// chunk or one decode token), and names the rows whose logits the sampler needs.
#ifndef DSINFER_MODEL_FORWARD_BATCH_H_
#define DSINFER_MODEL_FORWARD_BATCH_H_

#include <cstdint>
#include <span>

namespace dsinfer {

struct SequenceSlice {
  int64_t first_token = 0;  // index of the slice's first token in ForwardBatch::tokens
  int64_t n_tokens = 0;     // >= 1
  int64_t n_past = 0;       // tokens of this sequence already in the KV cache
  // KV blocks of the sequence, covering positions 0 .. n_past + n_tokens - 1.
  std::span<const int32_t> block_table;
};

struct ForwardBatch {
  std::span<const int32_t> tokens;  // every slice's new tokens, slices in order
  std::span<const SequenceSlice> sequences;
  // Indices into `tokens` whose logits are returned, one row each, in this order.
  std::span<const int64_t> logit_rows;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_FORWARD_BATCH_H_
