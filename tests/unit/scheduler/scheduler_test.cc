#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

namespace dsinfer {
namespace {

constexpr int32_t kBlockSize = 4;

std::vector<int32_t> Tokens(int32_t n, int32_t first = 100) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  std::iota(tokens.begin(), tokens.end(), first);
  return tokens;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void Build(int32_t num_blocks, SchedulerOptions options) {
    auto kv = KvCacheManager::Create({.num_blocks = num_blocks, .block_size = kBlockSize});
    ASSERT_TRUE(kv.ok());
    kv_ = std::move(kv).value();
    auto scheduler = Scheduler::Create(options, kv_.get());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
    scheduler_ = std::move(scheduler).value();
  }

  void Add(SequenceId id, std::vector<int32_t> prompt, int32_t max_tokens, std::string scope = "") {
    ASSERT_TRUE(scheduler_
                    ->AddRequest({.id = id,
                                  .prompt_token_ids = std::move(prompt),
                                  .max_tokens = max_tokens,
                                  .cache_scope = std::move(scope)})
                    .ok());
  }

  // Steps once, checks invariants, and appends token 7 for every sequence that samples.
  StepPlan StepAndSample() {
    StepPlan plan = scheduler_->Step();
    EXPECT_TRUE(scheduler_->CheckInvariants().ok()) << scheduler_->CheckInvariants().ToString();
    for (const ScheduledSequence& s : plan.sequences) {
      if (s.samples_token) {
        EXPECT_TRUE(scheduler_->AppendToken(s.id, 7).ok());
      }
    }
    return plan;
  }

  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, CreateRejectsBadOptions) {
  auto kv = KvCacheManager::Create({.num_blocks = 4});
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(Scheduler::Create({}, nullptr).ok());
  EXPECT_FALSE(Scheduler::Create({.max_num_seqs = 0}, kv->get()).ok());
  EXPECT_FALSE(Scheduler::Create({.max_num_batched_tokens = 4, .max_num_seqs = 8}, kv->get()).ok());
}

TEST_F(SchedulerTest, AddRequestValidatesInput) {
  Build(4, {.max_num_batched_tokens = 64, .max_num_seqs = 4, .max_model_len = 12});
  EXPECT_EQ(scheduler_->AddRequest({.id = 1, .prompt_token_ids = {}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      scheduler_->AddRequest({.id = 1, .prompt_token_ids = Tokens(3), .max_tokens = 0}).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      scheduler_->AddRequest({.id = 1, .prompt_token_ids = Tokens(10), .max_tokens = 3}).code(),
      StatusCode::kInvalidArgument);  // over max_model_len
  ASSERT_TRUE(
      scheduler_->AddRequest({.id = 1, .prompt_token_ids = Tokens(3), .max_tokens = 3}).ok());
  EXPECT_EQ(
      scheduler_->AddRequest({.id = 1, .prompt_token_ids = Tokens(3), .max_tokens = 3}).code(),
      StatusCode::kAlreadyExists);
}

TEST_F(SchedulerTest, RejectsRequestsThePoolCannotHoldAlone) {
  Build(4, {.max_num_batched_tokens = 64, .max_num_seqs = 4});  // 16 token slots
  // 12 + 5 - 1 = 16 positions need KV: fits exactly. One more does not.
  EXPECT_TRUE(
      scheduler_->AddRequest({.id = 1, .prompt_token_ids = Tokens(12), .max_tokens = 5}).ok());
  EXPECT_EQ(
      scheduler_->AddRequest({.id = 2, .prompt_token_ids = Tokens(12), .max_tokens = 6}).code(),
      StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, PrefillThenDecodeUntilMaxTokens) {
  Build(16, {.max_num_batched_tokens = 64, .max_num_seqs = 4});
  Add(1, Tokens(10), 3);
  StepPlan plan = scheduler_->Step();
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.admitted, std::vector<SequenceId>{1});
  const ScheduledSequence& prefill = plan.sequences[0];
  EXPECT_EQ(prefill.first_position, 0);
  EXPECT_EQ(prefill.token_ids, Tokens(10));
  EXPECT_EQ(prefill.block_table.size(), 3u);
  EXPECT_TRUE(prefill.samples_token);
  EXPECT_EQ(plan.num_batched_tokens, 10);
  ASSERT_EQ(scheduler_->AppendToken(1, 500).value(), SequenceStatus::kRunning);

  plan = scheduler_->Step();
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.sequences[0].first_position, 10);
  EXPECT_EQ(plan.sequences[0].token_ids, std::vector<int32_t>{500});
  EXPECT_TRUE(plan.sequences[0].samples_token);
  ASSERT_EQ(scheduler_->AppendToken(1, 501).value(), SequenceStatus::kRunning);

  plan = scheduler_->Step();
  EXPECT_EQ(plan.sequences[0].first_position, 11);
  ASSERT_EQ(scheduler_->AppendToken(1, 502).value(), SequenceStatus::kFinished);
  EXPECT_EQ(scheduler_->sequence(1), nullptr);
  EXPECT_EQ(kv_->num_used_blocks(), 0);
  EXPECT_TRUE(scheduler_->Step().empty());
}

TEST_F(SchedulerTest, LongPromptIsChunkedUnderTheTokenBudget) {
  Build(16, {.max_num_batched_tokens = 8, .max_num_seqs = 4});
  Add(1, Tokens(20), 2);
  std::vector<int32_t> firsts;
  std::vector<bool> samples;
  for (int i = 0; i < 3; ++i) {
    const StepPlan plan = StepAndSample();
    ASSERT_EQ(plan.sequences.size(), 1u);
    EXPECT_LE(plan.num_batched_tokens, 8);
    firsts.push_back(plan.sequences[0].first_position);
    samples.push_back(plan.sequences[0].samples_token);
  }
  EXPECT_EQ(firsts, (std::vector<int32_t>{0, 8, 16}));
  EXPECT_EQ(samples, (std::vector<bool>{false, false, true}));
}

TEST_F(SchedulerTest, DecodesGoFirstThenPromptChunks) {
  Build(32, {.max_num_batched_tokens = 10, .max_num_seqs = 4});
  Add(1, Tokens(3), 10);
  StepAndSample();  // 1 prefilled
  Add(2, Tokens(30, 200), 2);
  StepPlan plan = StepAndSample();  // 1 decodes, 2 gets the other 9 tokens
  ASSERT_EQ(plan.sequences.size(), 2u);
  EXPECT_EQ(plan.sequences[0].id, 1);
  EXPECT_EQ(plan.sequences[0].num_tokens(), 1);
  EXPECT_EQ(plan.sequences[1].id, 2);
  EXPECT_EQ(plan.sequences[1].num_tokens(), 9);
  Add(3, Tokens(2, 400), 2);
  plan = StepAndSample();
  ASSERT_EQ(plan.sequences.size(), 2u);  // no budget left to admit 3
  EXPECT_EQ(plan.sequences[0].id, 1);
  EXPECT_EQ(plan.sequences[1].id, 2);
  EXPECT_EQ(plan.sequences[1].first_position, 9);
  EXPECT_EQ(plan.num_batched_tokens, 10);
  EXPECT_EQ(scheduler_->num_waiting(), 1u);
}

TEST_F(SchedulerTest, MaxNumSeqsBoundsAdmission) {
  Build(32, {.max_num_batched_tokens = 64, .max_num_seqs = 2});
  for (SequenceId id = 1; id <= 3; ++id) Add(id, Tokens(3, static_cast<int32_t>(id) * 100), 4);
  const StepPlan plan = StepAndSample();
  EXPECT_EQ(plan.admitted, (std::vector<SequenceId>{1, 2}));
  EXPECT_EQ(scheduler_->num_running(), 2u);
  EXPECT_EQ(scheduler_->num_waiting(), 1u);
}

TEST_F(SchedulerTest, AdmissionSkipsCachedPrefixTokens) {
  Build(32, {.max_num_batched_tokens = 64, .max_num_seqs = 4});
  Add(1, Tokens(12), 1);
  StepAndSample();  // prefills and finishes; its 3 full prompt blocks stay cached
  ASSERT_EQ(scheduler_->sequence(1), nullptr);
  std::vector<int32_t> prompt = Tokens(12);
  prompt.push_back(9);
  prompt.push_back(10);
  Add(2, prompt, 1);
  const StepPlan plan = scheduler_->Step();
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.sequences[0].first_position, 12);
  EXPECT_EQ(plan.sequences[0].token_ids, (std::vector<int32_t>{9, 10}));
  EXPECT_EQ(scheduler_->sequence(2)->num_cached_tokens, 12);
  EXPECT_EQ(kv_->prefix_cache_stats().hits, 3);
}

TEST_F(SchedulerTest, OtherTenantsPrefixIsNotReused) {
  Build(32, {.max_num_batched_tokens = 64, .max_num_seqs = 4});
  Add(1, Tokens(12), 1, "tenant-a");
  StepAndSample();
  Add(2, Tokens(13), 1, "tenant-b");
  const StepPlan plan = scheduler_->Step();
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.sequences[0].first_position, 0);
  EXPECT_EQ(kv_->prefix_cache_stats().hits, 0);
}

TEST_F(SchedulerTest, PreemptsTheNewestAndRecomputesItLater) {
  Build(4, {.max_num_batched_tokens = 64, .max_num_seqs = 4});  // 16 token slots
  Add(1, Tokens(7, 100), 4);
  Add(2, Tokens(7, 200), 6);
  StepAndSample();                        // both prefill 7 tokens: 2 blocks each, pool full
  StepAndSample();                        // both decode position 7, still inside block 1
  const StepPlan plan = StepAndSample();  // position 8 needs a third block for each
  EXPECT_EQ(plan.preempted, std::vector<SequenceId>{2});
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.sequences[0].id, 1);
  const Sequence* preempted = scheduler_->sequence(2);
  ASSERT_NE(preempted, nullptr);
  EXPECT_EQ(preempted->status, SequenceStatus::kPreempted);
  EXPECT_EQ(preempted->num_preemptions, 1);
  EXPECT_EQ(preempted->num_computed_tokens, 0);
  EXPECT_EQ(preempted->num_tokens(), 9);  // prompt + 2 generated, all to be recomputed
  // Sequence 1 finishes after its 4th token; then 2 resumes and recomputes prompt + outputs.
  StepPlan resumed;
  for (int i = 0; i < 4 && resumed.admitted.empty(); ++i) resumed = StepAndSample();
  ASSERT_EQ(resumed.admitted, std::vector<SequenceId>{2});
  EXPECT_EQ(scheduler_->sequence(1), nullptr);
  const ScheduledSequence& s = resumed.sequences.back();
  EXPECT_EQ(s.id, 2);
  EXPECT_EQ(s.first_position % kBlockSize, 0);
  EXPECT_EQ(s.first_position + s.num_tokens(), 9);
  EXPECT_EQ(s.token_ids.back(), 7);  // a generated token is part of the recompute
  EXPECT_TRUE(s.samples_token);
}

TEST_F(SchedulerTest, AbortFreesEveryBlockAtOnce) {
  Build(32, {.max_num_batched_tokens = 64, .max_num_seqs = 4});
  Add(1, Tokens(5, 100), 50);
  StepAndSample();
  const int32_t used_before = kv_->num_used_blocks();
  Add(2, Tokens(21, 300), 50);
  StepAndSample();
  StepAndSample();
  EXPECT_EQ(kv_->num_used_blocks(), used_before + 6);
  ASSERT_TRUE(scheduler_->Abort(2).ok());
  EXPECT_EQ(kv_->num_used_blocks(), used_before);
  EXPECT_EQ(scheduler_->sequence(2), nullptr);
  EXPECT_TRUE(scheduler_->CheckInvariants().ok());
  const StepPlan plan = StepAndSample();
  ASSERT_EQ(plan.sequences.size(), 1u);
  EXPECT_EQ(plan.sequences[0].id, 1);
  EXPECT_EQ(scheduler_->Abort(2).code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, AbortOfAWaitingRequestRemovesIt) {
  Build(32, {.max_num_batched_tokens = 4, .max_num_seqs = 4});
  Add(1, Tokens(8), 2);
  Add(2, Tokens(8, 300), 2);
  ASSERT_TRUE(scheduler_->Abort(2).ok());
  EXPECT_EQ(scheduler_->num_waiting(), 1u);
  EXPECT_TRUE(scheduler_->CheckInvariants().ok());
}

TEST_F(SchedulerTest, FinishAndAppendTokenCheckTheSequenceState) {
  Build(32, {.max_num_batched_tokens = 64, .max_num_seqs = 4});
  Add(1, Tokens(8), 5);
  EXPECT_EQ(scheduler_->Finish(1).code(), StatusCode::kFailedPrecondition);  // still waiting
  EXPECT_EQ(scheduler_->AppendToken(1, 3).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_->AppendToken(9, 3).status().code(), StatusCode::kNotFound);
  const StepPlan plan = scheduler_->Step();
  ASSERT_TRUE(plan.sequences[0].samples_token);
  ASSERT_TRUE(scheduler_->Finish(1).ok());  // e.g. the sampled token was EOS
  EXPECT_EQ(kv_->num_used_blocks(), 0);
  EXPECT_FALSE(scheduler_->has_unfinished());
}

}  // namespace
}  // namespace dsinfer
