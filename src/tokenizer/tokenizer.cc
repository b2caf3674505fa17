#include "tokenizer/tokenizer.h"

#include <deque>
#include <limits>

#include <fmt/format.h>

#include "base/utf8.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8_repair.h"

namespace dsinfer::tokenizer {
namespace {

constexpr uint8_t kPresent = 1;
constexpr uint8_t kSpecial = 2;
// Ids index dense tables; a hostile file naming id 2^31-1 must not allocate gigabytes.
constexpr int64_t kMaxVocabSize = int64_t{16} * 1024 * 1024;

}  // namespace

StatusOr<Tokenizer> Tokenizer::Create(TokenizerSpec spec) {
  Tokenizer t;
  DSI_ASSIGN_OR_RETURN(t.pre_tokenizer_, PreTokenizer::Create(std::move(spec.pre_tokenizer)));
  if (!t.pre_tokenizer_.has_byte_level()) {
    return UnimplementedError(
        "pre_tokenizer: only byte-level BPE is supported, and it has no ByteLevel step");
  }
  int64_t max_id = -1;
  const auto check_id = [&](int64_t id, std::string_view what) -> Status {
    if (id < 0 || id >= kMaxVocabSize) {
      return InvalidArgumentError(
          fmt::format("{}: id {} is outside [0, {})", what, id, kMaxVocabSize));
    }
    max_id = std::max(max_id, id);
    return Status::Ok();
  };
  for (const auto& [text, id] : spec.model.vocab) {
    DSI_RETURN_IF_ERROR(check_id(id, fmt::format("vocab entry '{}'", EscapeForMessage(text))));
  }
  for (const AddedToken& token : spec.added_tokens) {
    DSI_RETURN_IF_ERROR(
        check_id(token.id, fmt::format("added token '{}'", EscapeForMessage(token.content))));
  }
  if (spec.model.unk_id) DSI_RETURN_IF_ERROR(check_id(*spec.model.unk_id, "unk token"));
  t.id_bytes_.assign(static_cast<size_t>(max_id + 1), std::string());
  t.id_flags_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [text, id] : spec.model.vocab) {
    // Vocabulary text is byte-level; text outside the alphabet decodes as itself.
    std::optional<std::string> bytes = ByteLevelToBytes(text);
    if (bytes) {
      t.id_bytes_[static_cast<size_t>(id)] = std::move(*bytes);
    } else {
      t.id_bytes_[static_cast<size_t>(id)] = text;
    }
    t.id_flags_[static_cast<size_t>(id)] = kPresent;
  }
  for (const AddedToken& token : spec.added_tokens) {
    t.id_bytes_[static_cast<size_t>(token.id)] = token.content;
    t.id_flags_[static_cast<size_t>(token.id)] = kPresent | (token.special ? kSpecial : 0);
  }
  const auto check_known = [&](const std::optional<int32_t>& id, std::string_view what) {
    if (id && (*id < 0 || *id > max_id || !(t.id_flags_[static_cast<size_t>(*id)] & kPresent))) {
      return InvalidArgumentError(fmt::format("{} id {} is not in the vocabulary", what, *id));
    }
    return Status::Ok();
  };
  DSI_RETURN_IF_ERROR(check_known(spec.bos_id, "bos"));
  DSI_RETURN_IF_ERROR(check_known(spec.eos_id, "eos"));
  DSI_ASSIGN_OR_RETURN(t.added_, AddedTokenMatcher::Create(spec.added_tokens));
  DSI_ASSIGN_OR_RETURN(t.model_, BpeModel::Create(std::move(spec.model)));
  t.added_tokens_ = std::move(spec.added_tokens);
  t.normalizer_ = std::move(spec.normalizer);
  t.bos_id_ = spec.bos_id;
  t.eos_id_ = spec.eos_id;
  t.add_bos_ = spec.add_bos;
  t.add_eos_ = spec.add_eos;
  t.chat_template_ = std::move(spec.chat_template);
  return t;
}

Status Tokenizer::EncodeRun(std::string_view text, std::vector<int32_t>* ids) const {
  std::string normalized;
  if (!normalizer_.empty()) {
    DSI_ASSIGN_OR_RETURN(normalized, normalizer_.Apply(text));
    text = normalized;
  }
  if (text.empty()) return Status::Ok();
  std::vector<std::string_view> pieces;
  std::deque<std::string> storage;
  DSI_RETURN_IF_ERROR(pre_tokenizer_.Split(text, &pieces, &storage));
  for (const std::string_view piece : pieces) model_.Encode(piece, ids);
  return Status::Ok();
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                                 const EncodeOptions& options) const {
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = ReplaceInvalidUtf8(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_bos && bos_id_) ids.push_back(*bos_id_);
  std::vector<TextSegment> segments;
  added_.Split(text, options.parse_special, &segments);
  for (const TextSegment& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      DSI_RETURN_IF_ERROR(EncodeRun(segment.text, &ids));
    }
  }
  return ids;
}

std::optional<std::string_view> Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || id >= vocab_size() || !(id_flags_[static_cast<size_t>(id)] & kPresent)) {
    return std::nullopt;
  }
  return id_bytes_[static_cast<size_t>(id)];
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && id < vocab_size() && (id_flags_[static_cast<size_t>(id)] & kSpecial);
}

StatusOr<std::string> Tokenizer::DecodeBytes(std::span<const int32_t> ids,
                                             const DecodeOptions& options) const {
  std::string out;
  for (const int32_t id : ids) {
    const std::optional<std::string_view> bytes = TokenBytes(id);
    if (!bytes) {
      return InvalidArgumentError(fmt::format("token id {} is not in the vocabulary", id));
    }
    if (options.skip_special && IsSpecial(id)) continue;
    out += *bytes;
  }
  return out;
}

StatusOr<std::string> Tokenizer::Decode(std::span<const int32_t> ids,
                                        const DecodeOptions& options) const {
  DSI_ASSIGN_OR_RETURN(std::string bytes, DecodeBytes(ids, options));
  if (IsValidUtf8(bytes)) return bytes;
  return ReplaceInvalidUtf8(bytes);
}

std::optional<int32_t> Tokenizer::FindToken(std::string_view text) const {
  for (auto it = added_tokens_.rbegin(); it != added_tokens_.rend(); ++it) {
    if (it->content == text) return it->id;
  }
  return model_.Find(text);
}

}  // namespace dsinfer::tokenizer
