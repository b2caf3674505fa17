#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace dsinfer::tokenizer {
namespace {

struct Part {
  ByteRange range;
  bool is_match;
};

// HF tokenizers' Split: gaps and matches, then the behaviour's grouping.
Status ApplySplit(const SplitStep& step, std::string_view piece,
                  std::vector<std::string_view>* out) {
  std::vector<Part> parts;
  size_t prev = 0;
  DSI_RETURN_IF_ERROR(step.regex.FindAll(piece, [&](ByteRange m) {
    if (m.begin > prev) parts.push_back({{prev, m.begin}, step.invert});
    parts.push_back({m, !step.invert});
    prev = m.end;
  }));
  if (prev < piece.size()) parts.push_back({{prev, piece.size()}, step.invert});

  std::vector<Part> grouped;
  bool previous_match = false;
  switch (step.behavior) {
    case SplitBehavior::kIsolated: grouped = std::move(parts); break;
    case SplitBehavior::kRemoved:
      for (const Part& p : parts) {
        if (!p.is_match) grouped.push_back(p);
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Part& p : parts) {
        if (p.is_match && !previous_match && !grouped.empty()) {
          grouped.back().range.end = p.range.end;
        } else {
          grouped.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->is_match && !previous_match && !grouped.empty()) {
          grouped.back().range.begin = it->range.begin;
        } else {
          grouped.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(grouped.begin(), grouped.end());
      break;
    case SplitBehavior::kContiguous:
      for (const Part& p : parts) {
        if (p.is_match == previous_match && !grouped.empty()) {
          grouped.back().range.end = p.range.end;
        } else {
          grouped.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
  }
  for (const Part& p : grouped) {
    if (p.range.end > p.range.begin) {
      out->push_back(piece.substr(p.range.begin, p.range.end - p.range.begin));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<PreTokenizer> PreTokenizer::Create(std::vector<PreTokenizerStep> steps) {
  PreTokenizer pre;
  for (const PreTokenizerStep& step : steps) {
    std::optional<SplitStep> derived;
    if (const auto* byte_level = std::get_if<ByteLevelStep>(&step);
        byte_level != nullptr && byte_level->use_regex) {
      DSI_ASSIGN_OR_RETURN(SplitRegex regex, SplitRegex::Compile(kGpt2Pattern));
      derived = SplitStep{.regex = std::move(regex), .behavior = SplitBehavior::kIsolated};
    } else if (const auto* digits = std::get_if<DigitsStep>(&step)) {
      // HF: char::is_numeric (\p{N}); single digits isolated, or runs kept contiguous.
      DSI_ASSIGN_OR_RETURN(SplitRegex regex,
                           SplitRegex::Compile(digits->individual_digits ? "\\p{N}" : "\\p{N}+"));
      derived = SplitStep{.regex = std::move(regex), .behavior = SplitBehavior::kIsolated};
    }
    pre.derived_.push_back(std::move(derived));
  }
  pre.steps_ = std::move(steps);
  return pre;
}

bool PreTokenizer::has_byte_level() const {
  for (const PreTokenizerStep& step : steps_) {
    if (std::holds_alternative<ByteLevelStep>(step)) return true;
  }
  return false;
}

Status PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* pieces,
                           std::deque<std::string>* storage) const {
  std::vector<std::string_view> current{text};
  std::vector<std::string_view> next;
  for (size_t s = 0; s < steps_.size(); ++s) {
    next.clear();
    const PreTokenizerStep& step = steps_[s];
    for (std::string_view piece : current) {
      if (const auto* byte_level = std::get_if<ByteLevelStep>(&step);
          byte_level != nullptr && byte_level->add_prefix_space && !piece.starts_with(' ')) {
        storage->push_back(" " + std::string(piece));
        piece = storage->back();
      }
      if (const auto* split = std::get_if<SplitStep>(&step)) {
        DSI_RETURN_IF_ERROR(ApplySplit(*split, piece, &next));
      } else if (derived_[s]) {
        DSI_RETURN_IF_ERROR(ApplySplit(*derived_[s], piece, &next));
      } else {
        next.push_back(piece);
      }
    }
    std::swap(current, next);
  }
  for (const std::string_view piece : current) {
    if (!piece.empty()) pieces->push_back(piece);
  }
  return Status::Ok();
}

}  // namespace dsinfer::tokenizer
