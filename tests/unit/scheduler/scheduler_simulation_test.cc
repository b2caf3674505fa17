// A seeded random workload against the real Scheduler and KvCacheManager: requests arrive,
// finish, stop early and are aborted, under a pool small enough to force preemption. The test
// keeps its own model of every request (its tokens and how many have KV) and checks each step's
// plan against it, plus the scheduler's and KV manager's own invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/scheduler.h"

namespace dsinfer {
namespace {

struct SimConfig {
  std::string name;
  int num_requests = 150;
  int32_t num_blocks = 12;
  int32_t block_size = 4;
  int32_t max_num_batched_tokens = 16;
  int32_t max_num_seqs = 4;
  int32_t max_prompt = 30;
  int32_t max_new_tokens = 16;
  double arrival_prob = 0.5;
  double abort_prob = 0.02;
  double stop_prob = 0.03;
};

struct SimResult {
  std::string schedule;  // every step's plan, for the determinism check
  int64_t steps = 0;
  int64_t preemptions = 0;
  int64_t aborts = 0;
  int64_t completed = 0;
  int64_t max_admission_wait = 0;  // steps from arrival to first admission
  PrefixCacheStats prefix_stats;
};

// The test's own view of a request.
struct Model {
  std::vector<int32_t> tokens;  // prompt + generated
  int32_t num_prompt = 0;
  int32_t max_tokens = 0;
  int64_t arrival_step = 0;
  bool running = false;
  bool ever_admitted = false;
  int64_t admission_rank = 0;  // order of the latest admission
  int32_t computed = 0;        // positions with KV
};

constexpr int64_t kMaxSteps = 200000;

SimResult RunSimulation(const SimConfig& config, uint64_t seed) {
  SimResult result;
  std::mt19937_64 rng(seed);
  auto coin = [&rng](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto uniform = [&rng](int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
  };

  auto kv_or =
      KvCacheManager::Create({.num_blocks = config.num_blocks, .block_size = config.block_size});
  EXPECT_TRUE(kv_or.ok());
  std::unique_ptr<KvCacheManager> kv = std::move(kv_or).value();
  auto scheduler_or = Scheduler::Create({.max_num_batched_tokens = config.max_num_batched_tokens,
                                         .max_num_seqs = config.max_num_seqs},
                                        kv.get());
  EXPECT_TRUE(scheduler_or.ok());
  std::unique_ptr<Scheduler> scheduler = std::move(scheduler_or).value();

  // A few shared prompt prefixes so that prefix caching has something to hit.
  std::vector<std::vector<int32_t>> prefixes;
  for (int i = 0; i < 3; ++i) {
    std::vector<int32_t> prefix(
        static_cast<size_t>(uniform(config.block_size, 3 * config.block_size)));
    for (int32_t& t : prefix) t = uniform(0, 50000);
    prefixes.push_back(std::move(prefix));
  }
  const std::vector<std::string> scopes = {"", "tenant-a", "tenant-b"};
  const int64_t capacity = int64_t{config.num_blocks} * config.block_size;

  std::map<SequenceId, Model> live;
  SequenceId next_id = 0;
  int64_t admission_rank = 0;
  SequenceId last_first_admitted = -1;

  for (int64_t step = 0; next_id < config.num_requests || !live.empty(); ++step) {
    if (step >= kMaxSteps || ::testing::Test::HasFailure()) {
      ADD_FAILURE() << config.name << " seed " << seed << ": stopped at step " << step;
      break;
    }
    result.steps = step + 1;

    // Arrivals.
    while (next_id < config.num_requests && coin(config.arrival_prob)) {
      Model m;
      if (coin(0.5)) m.tokens = prefixes[static_cast<size_t>(uniform(0, 2))];
      const int32_t extra = uniform(m.tokens.empty() ? 1 : 0, config.max_prompt);
      for (int32_t t = 0; t < extra; ++t) m.tokens.push_back(uniform(0, 50000));
      m.num_prompt = static_cast<int32_t>(m.tokens.size());
      const auto room = static_cast<int32_t>(capacity - m.num_prompt + 1);
      m.max_tokens = uniform(1, std::min(config.max_new_tokens, room));
      m.arrival_step = step;
      const Status added =
          scheduler->AddRequest({.id = next_id,
                                 .prompt_token_ids = m.tokens,
                                 .max_tokens = m.max_tokens,
                                 .cache_scope = scopes[static_cast<size_t>(uniform(0, 2))]});
      EXPECT_TRUE(added.ok()) << added.ToString();
      live.emplace(next_id++, std::move(m));
    }

    // A client goes away: its blocks are freed before the next step.
    if (!live.empty() && coin(config.abort_prob)) {
      auto victim = live.begin();
      std::advance(victim, uniform(0, static_cast<int32_t>(live.size()) - 1));
      const int32_t used_before = kv->num_used_blocks();
      EXPECT_TRUE(scheduler->Abort(victim->first).ok());
      EXPECT_EQ(kv->table(victim->first), nullptr);
      EXPECT_LE(kv->num_used_blocks(), used_before);
      live.erase(victim);
      ++result.aborts;
    }

    // The earliest-admitted running request must make progress this step (no starvation).
    SequenceId oldest_running = -1;
    int64_t oldest_rank = INT64_MAX;
    for (const auto& [id, m] : live) {
      if (m.running && m.admission_rank < oldest_rank) {
        oldest_rank = m.admission_rank;
        oldest_running = id;
      }
    }

    const StepPlan plan = scheduler->Step();
    const Status invariants = scheduler->CheckInvariants();
    EXPECT_TRUE(invariants.ok()) << invariants.ToString();

    result.schedule += "|";
    EXPECT_LE(plan.num_batched_tokens, config.max_num_batched_tokens);
    EXPECT_LE(static_cast<int32_t>(plan.sequences.size()), config.max_num_seqs);
    EXPECT_TRUE(plan.preempted.empty() || plan.admitted.empty());
    for (const SequenceId id : plan.preempted) {
      Model& m = live.at(id);
      EXPECT_TRUE(m.running);
      m.running = false;
      m.computed = 0;
      ++result.preemptions;
      result.schedule += "p" + std::to_string(id) + ",";
    }
    const std::set<SequenceId> admitted(plan.admitted.begin(), plan.admitted.end());
    std::set<SequenceId> seen;
    int phase = 0;  // decodes (0), then prompt chunks (1), then admissions (2)
    int32_t total = 0;
    for (const ScheduledSequence& s : plan.sequences) {
      EXPECT_TRUE(seen.insert(s.id).second) << "scheduled twice: " << s.id;
      EXPECT_EQ(std::count(plan.preempted.begin(), plan.preempted.end(), s.id), 0);
      Model& m = live.at(s.id);
      const auto known = static_cast<int32_t>(m.tokens.size());
      int entry_phase = 2;
      if (admitted.contains(s.id)) {
        EXPECT_FALSE(m.running);
        EXPECT_EQ(s.first_position % config.block_size, 0);  // cached prefix: whole blocks
        EXPECT_LT(s.first_position, known);
        if (!m.ever_admitted) {
          // FIFO: first admissions follow arrival (id) order.
          EXPECT_GT(s.id, last_first_admitted);
          last_first_admitted = s.id;
          result.max_admission_wait = std::max(result.max_admission_wait, step - m.arrival_step);
        }
        m.running = true;
        m.ever_admitted = true;
        m.admission_rank = admission_rank++;
      } else {
        EXPECT_TRUE(m.running);
        EXPECT_EQ(s.first_position, m.computed);
        entry_phase = known - m.computed == 1 ? 0 : 1;
      }
      EXPECT_GE(entry_phase, phase) << "decodes, then chunks, then admissions";
      phase = entry_phase;
      EXPECT_GE(s.num_tokens(), 1);
      const int32_t end = s.first_position + s.num_tokens();
      if (end > known) {
        ADD_FAILURE() << "plan runs past the known tokens of " << s.id;
        return result;
      }
      EXPECT_TRUE(
          std::equal(s.token_ids.begin(), s.token_ids.end(), m.tokens.begin() + s.first_position));
      EXPECT_EQ(static_cast<int32_t>(s.block_table.size()),
                BlocksForTokens(end, config.block_size));
      EXPECT_EQ(s.block_table, kv->table(s.id)->block_ids);
      EXPECT_EQ(s.samples_token, end == known);
      m.computed = end;
      total += s.num_tokens();
      result.schedule += std::to_string(s.id) + ":" + std::to_string(s.first_position) + "+" +
                         std::to_string(s.num_tokens()) + ",";
    }
    EXPECT_EQ(total, plan.num_batched_tokens);
    if (oldest_running >= 0) {
      EXPECT_TRUE(seen.contains(oldest_running))
          << "earliest-admitted request " << oldest_running << " got no tokens at step " << step;
    }

    // Sample: a stop condition, or a token (which finishes the request at max_tokens).
    for (const ScheduledSequence& s : plan.sequences) {
      if (!s.samples_token) continue;
      Model& m = live.at(s.id);
      if (coin(config.stop_prob)) {
        EXPECT_TRUE(scheduler->Finish(s.id).ok());
        live.erase(s.id);
        ++result.completed;
        continue;
      }
      const int32_t token = uniform(0, 50000);
      m.tokens.push_back(token);
      const StatusOr<SequenceStatus> status = scheduler->AppendToken(s.id, token);
      if (!status.ok()) {
        ADD_FAILURE() << status.status().ToString();
        return result;
      }
      const bool done = static_cast<int32_t>(m.tokens.size()) - m.num_prompt == m.max_tokens;
      EXPECT_EQ(*status, done ? SequenceStatus::kFinished : SequenceStatus::kRunning);
      if (done) {
        EXPECT_EQ(scheduler->sequence(s.id), nullptr);
        live.erase(s.id);
        ++result.completed;
      }
    }
    for (const auto& [id, m] : live) {
      const Sequence* seq = scheduler->sequence(id);
      if (seq == nullptr) {
        ADD_FAILURE() << "live request " << id << " unknown to the scheduler";
        return result;
      }
      EXPECT_EQ(seq->num_computed_tokens, m.computed);
      EXPECT_EQ(seq->token_ids, m.tokens);
    }
  }
  EXPECT_FALSE(scheduler->has_unfinished());
  EXPECT_EQ(kv->num_used_blocks(), 0);
  EXPECT_EQ(result.completed + result.aborts, config.num_requests);
  result.prefix_stats = kv->prefix_cache_stats();
  return result;
}

class SchedulerSimulationTest : public ::testing::TestWithParam<SimConfig> {};

TEST_P(SchedulerSimulationTest, InvariantsHoldEveryStepAndEveryRequestEnds) {
  const SimConfig& config = GetParam();
  SimResult totals;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const SimResult r = RunSimulation(config, seed);
    if (::testing::Test::HasFailure()) return;
    totals.preemptions += r.preemptions;
    totals.aborts += r.aborts;
    totals.prefix_stats.hits += r.prefix_stats.hits;
    totals.max_admission_wait = std::max(totals.max_admission_wait, r.max_admission_wait);
  }
  // The workload must actually exercise the paths under test.
  EXPECT_GT(totals.aborts, 0);
  EXPECT_GT(totals.prefix_stats.hits, 0);
  if (config.name == "tiny_pool") {
    EXPECT_GT(totals.preemptions, 0);
  }
  RecordProperty("preemptions", std::to_string(totals.preemptions));
  RecordProperty("max_admission_wait_steps", std::to_string(totals.max_admission_wait));
}

INSTANTIATE_TEST_SUITE_P(Workloads, SchedulerSimulationTest,
                         ::testing::Values(SimConfig{.name = "tiny_pool"},
                                           SimConfig{.name = "tight_budget",
                                                     .num_blocks = 24,
                                                     .max_num_batched_tokens = 6,
                                                     .max_num_seqs = 6},
                                           SimConfig{.name = "roomy",
                                                     .num_requests = 200,
                                                     .num_blocks = 96,
                                                     .block_size = 8,
                                                     .max_num_batched_tokens = 64,
                                                     .max_num_seqs = 16,
                                                     .max_prompt = 80,
                                                     .max_new_tokens = 32,
                                                     .arrival_prob = 0.7}),
                         [](const ::testing::TestParamInfo<SimConfig>& param_info) {
                           return param_info.param.name;
                         });

TEST(SchedulerDeterminismTest, SameSeedSameSchedule) {
  const SimConfig config{.name = "tiny_pool"};
  const SimResult a = RunSimulation(config, 42);
  const SimResult b = RunSimulation(config, 42);
  const SimResult c = RunSimulation(config, 43);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_NE(a.schedule, c.schedule);
}

}  // namespace
}  // namespace dsinfer
