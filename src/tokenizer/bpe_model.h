// BpeModel: byte-level BPE over a vocabulary and a ranked merge list (tokenizer.json's
// "model": {"type": "BPE"} or GGUF's tokenizer.ggml.tokens/merges).
//
// A piece (raw bytes from the pre-tokenizer) starts as one symbol per byte, each the id of
// that byte's GPT-2 code point (byte_level.h). Merges then apply lowest rank first, ties to
// the leftmost pair, exactly as HF tokenizers and transformers.js do; the linked-list +
// binary-heap form costs O(n log n) per piece of n bytes, so a 1 MB word is fine.
//
// Invariants: every merge's two parts and its result are vocabulary entries (checked at
// Create: a merge list naming unknown tokens is an error, as in HF tokenizers).
//
// Thread safety: immutable after Create(); Encode is const and may run on many threads.
#ifndef DSINFER_TOKENIZER_BPE_MODEL_H_
#define DSINFER_TOKENIZER_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dsinfer::tokenizer {

struct BpeModelSpec {
  // Byte-level token text -> id. Ids need not be dense.
  std::unordered_map<std::string, int32_t> vocab;
  // In rank order: merges[0] is applied first.
  std::vector<std::pair<std::string, std::string>> merges;
  // HF `ignore_merges` (Llama 3): a piece that is itself a vocabulary entry is one token.
  bool ignore_merges = false;
  // Emitted for a byte with no vocabulary entry; such bytes are dropped when absent.
  std::optional<int32_t> unk_id;
};

class BpeModel {
 public:
  // Errors name the merge (index and text) or the token at fault.
  static StatusOr<BpeModel> Create(BpeModelSpec spec);

  // Appends the ids of `piece` (raw bytes, before the byte-level mapping) to `out`.
  void Encode(std::string_view piece, std::vector<int32_t>* out) const;

  // The id of a byte-level token text, if it is in the vocabulary.
  std::optional<int32_t> Find(std::string_view text) const;

  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }
  size_t num_merges() const { return num_merges_; }

 private:
  // Open addressing over (left id, right id) -> merge; ~2x oversized, linear probing.
  struct MergeSlot {
    uint64_t key = kEmptyKey;
    uint32_t rank = 0;
    int32_t result = -1;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};

  const MergeSlot* FindMerge(int32_t left, int32_t right) const;
  void InsertMerge(int32_t left, int32_t right, uint32_t rank, int32_t result);

  std::unordered_map<std::string, int32_t> vocab_;
  std::array<int32_t, 256> byte_ids_{};  // -1 where the byte's code point is not a token
  std::vector<MergeSlot> merge_slots_;   // size is a power of two
  size_t num_merges_ = 0;
  bool ignore_merges_ = false;
  std::optional<int32_t> unk_id_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_BPE_MODEL_H_
