// A tiny hand-made byte-level BPE tokenizer for the unit tests: ids 0..255 are the 256 byte
// tokens (id == byte value), merged tokens follow from 256 in merge order, then added tokens.
#ifndef DSINFER_TESTS_UNIT_TOKENIZER_TINY_TOKENIZER_H_
#define DSINFER_TESTS_UNIT_TOKENIZER_TINY_TOKENIZER_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"

namespace dsinfer::tokenizer::testing {

// Merges over raw text (mapped to byte-level here), in rank order.
inline std::vector<std::pair<std::string, std::string>> TinyMerges() {
  return {{"h", "e"}, {"l", "l"},   {"he", "ll"}, {"hell", "o"},    {" ", "w"},
          {"o", "r"}, {" w", "or"}, {"l", "d"},   {" wor", "ld"},   {"a", "a"},
          {"b", "c"}, {"a", "b"},   {"1", "2"},   {"\xE4", "\xB8"}, {"\xE4\xB8", "\xAD"}};
}

constexpr int kBos = 400;
constexpr int kEos = 401;
constexpr int kTool = 402;  // non-special, lstrip + rstrip
constexpr int kWord = 403;  // non-special, single_word

inline int MergedId(const std::string& raw) {
  const auto merges = TinyMerges();
  for (size_t i = 0; i < merges.size(); ++i) {
    if (merges[i].first + merges[i].second == raw) return 256 + static_cast<int>(i);
  }
  return -1;
}

inline nlohmann::json TinyTokenizerJson(bool pair_merges = false) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[BytesToByteLevel(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json merges = nlohmann::json::array();
  int next = 256;
  for (const auto& [a, b] : TinyMerges()) {
    const std::string left = BytesToByteLevel(a);
    const std::string right = BytesToByteLevel(b);
    vocab[left + right] = next++;
    if (pair_merges) {
      merges.push_back({left, right});
    } else {
      merges.push_back(left + " " + right);
    }
  }
  const auto added = [](int id, const char* content, bool special, bool lstrip, bool rstrip,
                        bool single_word) {
    return nlohmann::json{{"id", id},           {"content", content}, {"special", special},
                          {"lstrip", lstrip},   {"rstrip", rstrip},   {"single_word", single_word},
                          {"normalized", false}};
  };
  return {{"version", "1.0"},
          {"added_tokens",
           {added(kBos, "<|bos|>", true, false, false, false),
            added(kEos, "<|eos|>", true, false, false, false),
            added(kTool, "<tool>", false, true, true, false),
            added(kWord, "<sw>", false, false, false, true)}},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"},
               {"pattern", {{"Regex", "\\p{N}{1,3}"}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"},
               {"add_prefix_space", false},
               {"trim_offsets", true},
               {"use_regex", true}}}}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"vocab", vocab}, {"merges", merges}}}};
}

inline std::string TinyTokenizerConfig() {
  return R"({"add_bos_token": true, "bos_token": {"__type": "AddedToken", "content": "<|bos|>"},
             "eos_token": "<|eos|>", "chat_template": "{{ messages }}"})";
}

}  // namespace dsinfer::tokenizer::testing

#endif  // DSINFER_TESTS_UNIT_TOKENIZER_TINY_TOKENIZER_H_
