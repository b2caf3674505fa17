#include "tokenizer/streaming_detokenizer.h"

#include <span>

#include "tokenizer/utf8_repair.h"

namespace dsinfer::tokenizer {

StatusOr<std::string> StreamingDetokenizer::Feed(int32_t id) {
  DSI_ASSIGN_OR_RETURN(std::string bytes,
                       tokenizer_->DecodeBytes(std::span<const int32_t>(&id, 1), options_));
  pending_ += bytes;
  const size_t tail = IncompleteUtf8Tail(pending_);
  std::string out =
      ReplaceInvalidUtf8(std::string_view(pending_).substr(0, pending_.size() - tail));
  pending_.erase(0, pending_.size() - tail);
  return out;
}

std::string StreamingDetokenizer::Flush() {
  std::string out = ReplaceInvalidUtf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace dsinfer::tokenizer
