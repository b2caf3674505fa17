#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <bit>
#include <queue>

#include <fmt/format.h>

#include "base/utf8.h"
#include "tokenizer/byte_level.h"

namespace dsinfer::tokenizer {
namespace {

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

size_t HashKey(uint64_t key) {
  key ^= key >> 33;  // murmur3 finaliser: ids are small and dense, so mix them
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ULL;
  key ^= key >> 33;
  return static_cast<size_t>(key);
}

// One symbol of the piece being merged; symbols form a doubly linked list in text order.
struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
};

// A merge that was possible when pushed; still valid iff both symbols kept their ids.
struct Candidate {
  uint32_t rank;
  int32_t left;  // symbol index; also the tie-break (leftmost first)
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t result;
  bool operator>(const Candidate& o) const {
    return rank != o.rank ? rank > o.rank : left > o.left;
  }
};

}  // namespace

StatusOr<BpeModel> BpeModel::Create(BpeModelSpec spec) {
  BpeModel model;
  model.vocab_ = std::move(spec.vocab);
  model.ignore_merges_ = spec.ignore_merges;
  model.unk_id_ = spec.unk_id;
  for (int b = 0; b < 256; ++b) {
    const auto it = model.vocab_.find(BytesToByteLevel(std::string(1, static_cast<char>(b))));
    model.byte_ids_[static_cast<size_t>(b)] = it == model.vocab_.end() ? -1 : it->second;
  }
  const size_t capacity = std::bit_ceil(std::max<size_t>(16, spec.merges.size() * 2));
  model.merge_slots_.assign(capacity, MergeSlot{});
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const auto left_it = model.vocab_.find(left);
    const auto right_it = model.vocab_.find(right);
    joined = left + right;
    const auto result_it = model.vocab_.find(joined);
    if (left_it == model.vocab_.end() || right_it == model.vocab_.end() ||
        result_it == model.vocab_.end()) {
      const std::string& missing = left_it == model.vocab_.end()    ? left
                                   : right_it == model.vocab_.end() ? right
                                                                    : joined;
      return InvalidArgumentError(fmt::format("merges[{}] ('{} {}'): '{}' is not in the vocab",
                                              rank, EscapeForMessage(left), EscapeForMessage(right),
                                              EscapeForMessage(missing)));
    }
    // A repeated pair keeps its last rank, as both reference implementations do.
    model.InsertMerge(left_it->second, right_it->second, static_cast<uint32_t>(rank),
                      result_it->second);
  }
  return model;
}

void BpeModel::InsertMerge(int32_t left, int32_t right, uint32_t rank, int32_t result) {
  const uint64_t key = PairKey(left, right);
  const size_t mask = merge_slots_.size() - 1;
  for (size_t i = HashKey(key) & mask;; i = (i + 1) & mask) {
    MergeSlot& slot = merge_slots_[i];
    if (slot.key == kEmptyKey) ++num_merges_;
    if (slot.key == kEmptyKey || slot.key == key) {
      slot = MergeSlot{.key = key, .rank = rank, .result = result};
      return;
    }
  }
}

const BpeModel::MergeSlot* BpeModel::FindMerge(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  const uint64_t key = PairKey(left, right);
  const size_t mask = merge_slots_.size() - 1;
  for (size_t i = HashKey(key) & mask;; i = (i + 1) & mask) {
    const MergeSlot& slot = merge_slots_[i];
    if (slot.key == key) return &slot;
    if (slot.key == kEmptyKey) return nullptr;
  }
}

std::optional<int32_t> BpeModel::Find(std::string_view text) const {
  const auto it = vocab_.find(std::string(text));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::Encode(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const std::optional<int32_t> whole = Find(BytesToByteLevel(piece))) {
      out->push_back(*whole);
      return;
    }
  }
  const auto emit = [&](int32_t id) {
    if (id >= 0) {
      out->push_back(id);
    } else if (unk_id_) {
      out->push_back(*unk_id_);
    }
  };
  if (piece.size() == 1) {
    emit(byte_ids_[static_cast<uint8_t>(piece[0])]);
    return;
  }

  const auto n = static_cast<int32_t>(piece.size());
  std::vector<Symbol> symbols(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    symbols[static_cast<size_t>(i)] = {
        byte_ids_[static_cast<uint8_t>(piece[static_cast<size_t>(i)])], i - 1,
        i + 1 < n ? i + 1 : -1};
  }
  std::vector<Candidate> storage;
  storage.reserve(static_cast<size_t>(n));
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(std::greater<>(),
                                                                               std::move(storage));
  const auto consider = [&](int32_t left) {
    const int32_t right = symbols[static_cast<size_t>(left)].next;
    if (right < 0) return;
    const int32_t left_id = symbols[static_cast<size_t>(left)].id;
    const int32_t right_id = symbols[static_cast<size_t>(right)].id;
    if (const MergeSlot* merge = FindMerge(left_id, right_id)) {
      queue.push({merge->rank, left, right, left_id, right_id, merge->result});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.left)];
    if (left.id != top.left_id || left.next != top.right) continue;  // stale
    Symbol& right = symbols[static_cast<size_t>(top.right)];
    if (right.id != top.right_id) continue;
    left.id = top.result;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.left;
    right.id = -2;  // dead: never read again through the list
    if (left.prev >= 0) consider(left.prev);
    consider(top.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    emit(symbols[static_cast<size_t>(i)].id);
  }
}

}  // namespace dsinfer::tokenizer
