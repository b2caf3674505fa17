#include "kernels/activations.h"

#include <vector>

#include <fmt/format.h>

#include "quant/blocks.h"

namespace dsinfer::kernels {

Status QuantizeActivationsInto(const KernelTable& table, DType vec_dot_type, const float* x,
                               int64_t n_tokens, int64_t n_in, std::byte* out, ThreadPool* pool,
                               Q8_0BlockTerms* terms) {
  const QuantizeRowFn quantize = table.QuantizeRow(vec_dot_type);
  if (quantize == nullptr) {
    return InternalError(
        fmt::format("no quantiser for activation type {}", DTypeName(vec_dot_type)));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(vec_dot_type, n_in));
  const int64_t blocks = vec_dot_type == DType::kQ8_0 && terms != nullptr ? n_in / kQK : 0;
  const auto convert = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      quantize(x + t * n_in, out + t * row_bytes, n_in);
      if (blocks > 0) table.q8_0_block_terms(out + t * row_bytes, blocks, terms + t * blocks);
    }
  };
  if (n_tokens == 1) {
    convert(0, 1);  // one row: waking the pool costs more than it saves
  } else {
    ForRange(pool, n_tokens, convert);
  }
  return Status::Ok();
}

StatusOr<QuantizedActivations> QuantizeActivations(const KernelTable& table, DType vec_dot_type,
                                                   const float* x, int64_t n_tokens, int64_t n_in,
                                                   ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(vec_dot_type, n_in));
  thread_local std::vector<std::byte> buffer;
  const auto needed = static_cast<size_t>(n_tokens * row_bytes);
  if (buffer.size() < needed) buffer.resize(needed);
  DSI_RETURN_IF_ERROR(
      QuantizeActivationsInto(table, vec_dot_type, x, n_tokens, n_in, buffer.data(), pool));
  return QuantizedActivations{.data = buffer.data(), .row_bytes = row_bytes};
}

}  // namespace dsinfer::kernels
