// StepBatch: a scheduler StepPlan turned into the Model's ForwardBatch (DESIGN.md step 7).
// Owns the flattened arrays the batch's spans point into; rebuilt every step.
#ifndef DSINFER_RUNNER_STEP_BATCH_H_
#define DSINFER_RUNNER_STEP_BATCH_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "model/forward_batch.h"
#include "scheduler/step_plan.h"

namespace dsinfer::runner {

// How long a decode loop keeps the pool's workers spinning after a step that another follows
// (ThreadPool::ExpectWorkWithin): enough for the sampling, scheduling and streaming between
// two steps, so that the next step's first job finds its workers awake.
inline constexpr std::chrono::microseconds kNextStepWithin{1000};

class StepBatch {
 public:
  // Every scheduled sequence becomes one slice; a logit row is asked for the last token of
  // each sequence whose plan entry samples_token, in plan order.
  void Build(const StepPlan& plan);

  ForwardBatch batch() const {
    return {.tokens = tokens_, .sequences = slices_, .logit_rows = logit_rows_};
  }
  // For each logit row, the index of its sequence in plan.sequences.
  const std::vector<size_t>& sampled_sequences() const { return sampled_sequences_; }

 private:
  std::vector<int32_t> tokens_;
  std::vector<SequenceSlice> slices_;
  std::vector<int64_t> logit_rows_;
  std::vector<size_t> sampled_sequences_;
};

}  // namespace dsinfer::runner

#endif  // DSINFER_RUNNER_STEP_BATCH_H_
