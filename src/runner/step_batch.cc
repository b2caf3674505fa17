#include "runner/step_batch.h"

namespace dsinfer::runner {

void StepBatch::Build(const StepPlan& plan) {
  tokens_.clear();
  slices_.clear();
  logit_rows_.clear();
  sampled_sequences_.clear();
  for (size_t i = 0; i < plan.sequences.size(); ++i) {
    const ScheduledSequence& s = plan.sequences[i];
    const auto first = static_cast<int64_t>(tokens_.size());
    tokens_.insert(tokens_.end(), s.token_ids.begin(), s.token_ids.end());
    // BlockId is int32_t: the table is viewed in place.
    slices_.push_back({.first_token = first,
                       .n_tokens = s.num_tokens(),
                       .n_past = s.first_position,
                       .block_table = s.block_table});
    if (s.samples_token) {
      logit_rows_.push_back(first + s.num_tokens() - 1);
      sampled_sequences_.push_back(i);
    }
  }
}

}  // namespace dsinfer::runner
