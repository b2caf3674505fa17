#include "kernels/packed_matrix.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#if DSINFER_KERNELS_X86
#include "kernels/x86/avx512/packed_x8.h"
#endif

#include "kernels/activations.h"
#include "kernels/matmul.h"
#include "kernels/packed_layout.h"
#include "kernels/packed_row_slices.h"
#include "platform/cpu_features.h"
#include "quant/blocks.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {

RowSlices PackedRowSlices(int64_t n_in) {
  static const bool kSliced = [] {
#if DSINFER_KERNELS_X86
    if (Kernels().isa >= Isa::kAvx512) {
      return avx512::MatvecTilesFor(GetCpuFeatures()) == avx512::MatvecTiles::k256Bit;
    }
#endif
    return true;
  }();
  return kSliced ? RowSlicesOf(n_in) : RowSlices{.width = n_in, .count = 1};
}

bool CanPack(DType dtype, const KernelTable& table) {
  return HasPackedLayout(dtype) && table.PackedMatvec(dtype) != nullptr;
}

StatusOr<int64_t> PackedMatrixBytes(DType dtype, int64_t n_out, int64_t n_in) {
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(dtype, n_in));
  if (!HasPackedLayout(dtype)) return row_bytes * n_out;
  const int64_t groups = n_out / kPackRows;
  return groups * PackedGroupBytes(dtype, n_in) + (n_out - groups * kPackRows) * row_bytes;
}

Status PackInto(const TensorView& weight, std::span<std::byte> out, ThreadPool* pool) {
  DSI_RETURN_IF_ERROR(CheckMatMulWeight(weight));
  if (weight.shape.rank() != 2 || !HasPackedLayout(weight.dtype)) {
    return InvalidArgumentError(fmt::format("pack: no packed layout for a {} {}",
                                            DTypeName(weight.dtype), weight.shape.ToString()));
  }
  const int64_t n_out = weight.shape.dim(0);
  const int64_t n_in = weight.shape.dim(1);
  DSI_ASSIGN_OR_RETURN(const int64_t bytes, PackedMatrixBytes(weight.dtype, n_out, n_in));
  if (static_cast<int64_t>(out.size()) != bytes) {
    return InvalidArgumentError(
        fmt::format("pack: output has {} bytes, the packed weight needs {}", out.size(), bytes));
  }
  const int64_t row_bytes = weight.row_bytes();
  const int64_t group_bytes = PackedGroupBytes(weight.dtype, n_in);
  const int64_t groups = n_out / kPackRows;
  const RowSlices slices = PackedRowSlices(n_in);
  ForRange(pool, groups, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const std::byte* rows = weight.bytes.data() + g * kPackRows * row_bytes;
      for (int64_t s = 0; s < slices.count; ++s) {
        PackGroup(weight.dtype, slices.Width(s, n_in),
                  rows + *RowBytes(weight.dtype, slices.Begin(s)), row_bytes,
                  out.data() + PackedSliceOffset(weight.dtype, n_in, slices, groups, g, s));
      }
    }
  });
  const int64_t tail_rows = n_out - groups * kPackRows;
  std::memcpy(out.data() + groups * group_bytes,
              weight.bytes.data() + groups * kPackRows * row_bytes,
              static_cast<size_t>(tail_rows * row_bytes));
  return Status::Ok();
}

StatusOr<PackedMatrix> PackedMatrix::Pack(const TensorView& weight, const KernelTable& table) {
  DSI_RETURN_IF_ERROR(CheckMatMulWeight(weight));
  if (weight.shape.rank() != 2) {
    return InvalidArgumentError(
        fmt::format("pack: weight shape {} is not [n_out, n_in]", weight.shape.ToString()));
  }
  PackedMatrix m;
  m.view_ = PackedMatrixView{.dtype = weight.dtype,
                             .packed = false,
                             .n_out = weight.shape.dim(0),
                             .n_in = weight.shape.dim(1),
                             .bytes = weight.bytes};
  if (!CanPack(weight.dtype, table)) return m;
  DSI_ASSIGN_OR_RETURN(const int64_t bytes,
                       PackedMatrixBytes(weight.dtype, m.view_.n_out, m.view_.n_in));
  m.storage_ = AlignedBuffer(static_cast<size_t>(bytes));
  DSI_RETURN_IF_ERROR(PackInto(weight, m.storage_.bytes()));
  m.view_.packed = true;
  m.view_.bytes = m.storage_.bytes();
  return m;
}

namespace {

// The checks of MatMulPacked on a packed weight.
// x [n_tokens, n_in] and y [n_tokens, n_out] against the weight's shape.
Status CheckOperandSizes(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                         std::span<float> y) {
  if (n_tokens < 0 || static_cast<int64_t>(x.size()) != n_tokens * weight.n_in ||
      static_cast<int64_t>(y.size()) != n_tokens * weight.n_out) {
    return InvalidArgumentError(
        fmt::format("matmul: x has {} floats and y {}, want {} tokens x {} in and x {} out",
                    x.size(), y.size(), n_tokens, weight.n_in, weight.n_out));
  }
  return Status::Ok();
}

Status CheckPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                   std::span<float> y, const KernelTable& table) {
  if (table.PackedMatvec(weight.dtype) == nullptr) {
    return InvalidArgumentError(fmt::format("matmul: the {} kernels have no packed {} body",
                                            IsaName(table.isa), DTypeName(weight.dtype)));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t bytes,
                       PackedMatrixBytes(weight.dtype, weight.n_out, weight.n_in));
  if (static_cast<int64_t>(weight.bytes.size()) != bytes) {
    return InvalidArgumentError(fmt::format("matmul: packed {} [{}, {}] needs {} bytes, has {}",
                                            DTypeName(weight.dtype), weight.n_out, weight.n_in,
                                            bytes, weight.bytes.size()));
  }
  return CheckOperandSizes(weight, x, n_tokens, y);
}

// Row groups [begin, end) of a packed weight against every token of `act`.
void RunGroups(const PackedMatrixView& weight, PackedMatvecFn matvec, PackedGemmFn gemm,
               const QuantizedActivations& act, int64_t n_tokens, std::span<float> y, int64_t begin,
               int64_t end) {
  const int64_t group_bytes = PackedGroupBytes(weight.dtype, weight.n_in);
  const std::byte* packed = weight.bytes.data();
  const int64_t terms_per_row = weight.n_in / kQK;
  if (n_tokens == 1 || gemm == nullptr) {
    for (int64_t t = 0; t < n_tokens; ++t) {
      matvec(weight.n_in, packed + begin * group_bytes, end - begin, act.data + t * act.row_bytes,
             act.terms == nullptr ? nullptr : act.terms + t * terms_per_row,
             y.data() + t * weight.n_out + kPackRows * begin);
    }
    return;
  }
  gemm(weight.n_in, packed + begin * group_bytes, end - begin, act.data, act.row_bytes, act.terms,
       n_tokens, y.data() + kPackRows * begin, weight.n_out);
}

// RunGroups for a weight stored in column slices (packed_row_slices.h), quad by quad: each slice
// of the quad's groups in [begin, end) into its own partial sums, which are then added in slice
// order, so that every token's outputs are the same float operations in the matvec and the gemm.
// `slice_terms`: for the gemm of Q8_0 activations, their block terms slice by slice (slice s of
// every token, each token's W_s / 32 in a row; SliceTerms), as the gemm steps through them.
void RunSlicedGroups(const PackedMatrixView& weight, PackedMatvecFn matvec, PackedGemmFn gemm,
                     DType act_type, const QuantizedActivations& act,
                     const Q8_0BlockTerms* slice_terms, int64_t n_tokens, std::span<float> y,
                     int64_t begin, int64_t end) {
  const int64_t n_in = weight.n_in;
  const RowSlices slices = PackedRowSlices(n_in);
  const int64_t groups = weight.n_out / kPackRows;
  const bool by_token = n_tokens == 1 || gemm == nullptr;
  thread_local std::vector<float> partial;
  for (int64_t quad = begin - begin % kQuadGroups; quad < end; quad += kQuadGroups) {
    const int64_t g0 = std::max(begin, quad);
    const int64_t g1 = std::min(end, quad + kQuadGroups);
    const int64_t rows = (g1 - g0) * kPackRows;
    partial.resize(static_cast<size_t>(slices.count * n_tokens * rows));
    for (int64_t s = 0; s < slices.count; ++s) {
      const int64_t width = slices.Width(s, n_in);
      const std::byte* w =
          weight.bytes.data() + PackedSliceOffset(weight.dtype, n_in, slices, groups, g0, s);
      const std::byte* a = act.data + *RowBytes(act_type, slices.Begin(s));
      float* out = partial.data() + s * n_tokens * rows;
      if (by_token) {
        for (int64_t t = 0; t < n_tokens; ++t) {
          matvec(
              width, w, g1 - g0, a + t * act.row_bytes,
              act.terms == nullptr ? nullptr : act.terms + t * (n_in / kQK) + slices.Begin(s) / kQK,
              out + t * rows);
        }
      } else {
        gemm(width, w, g1 - g0, a, act.row_bytes,
             slice_terms == nullptr ? nullptr : slice_terms + n_tokens * slices.Begin(s) / kQK,
             n_tokens, out, rows);
      }
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      float* dst = y.data() + t * weight.n_out + kPackRows * g0;
      const float* first = partial.data() + t * rows;
      std::copy(first, first + rows, dst);
      for (int64_t s = 1; s < slices.count; ++s) {
        const float* part = partial.data() + (s * n_tokens + t) * rows;
        for (int64_t r = 0; r < rows; ++r) dst[r] += part[r];
      }
    }
  }
}

// Q8_0 block terms [n_tokens, n_in / 32] reordered slice by slice for RunSlicedGroups' gemm.
void SliceTerms(const Q8_0BlockTerms* terms, int64_t n_tokens, int64_t n_in, Q8_0BlockTerms* out) {
  const RowSlices slices = PackedRowSlices(n_in);
  for (int64_t s = 0; s < slices.count; ++s) {
    const int64_t first = slices.Begin(s) / kQK;
    const int64_t count = slices.Width(s, n_in) / kQK;
    for (int64_t t = 0; t < n_tokens; ++t) {
      std::copy_n(terms + t * (n_in / kQK) + first, count, out + n_tokens * first + t * count);
    }
  }
}

// The n_out % 8 tail rows, in ggml's layout after the groups.
void RunTailRows(const PackedMatrixView& weight, const QuantizedActivations& act, int64_t n_tokens,
                 std::span<float> y, const KernelTable& table) {
  const VecDotFn vec_dot = table.VecDot(weight.dtype);
  const int64_t groups = weight.n_out / kPackRows;
  const std::byte* tail =
      weight.bytes.data() + groups * PackedGroupBytes(weight.dtype, weight.n_in);
  const int64_t row_bytes = *RowBytes(weight.dtype, weight.n_in);
  for (int64_t r = groups * kPackRows; r < weight.n_out; ++r) {
    const std::byte* row = tail + (r - groups * kPackRows) * row_bytes;
    for (int64_t t = 0; t < n_tokens; ++t) {
      y[static_cast<size_t>(t * weight.n_out + r)] =
          vec_dot(weight.n_in, row, act.data + t * act.row_bytes);
    }
  }
}

}  // namespace

Status MatMulPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                    std::span<float> y, ThreadPool* pool, const KernelTable& table) {
  const PackedProduct product{.weight = weight, .x = x, .n_tokens = n_tokens, .y = y};
  return MatMulPackedBatch(std::span(&product, 1), pool, table);
}

namespace {

// A packed product of a batch, ready to run: its bodies, its activations and its place in the
// joint range of row groups.
struct ReadyProduct {
  const PackedProduct* product;
  PackedMatvecFn matvec;
  PackedGemmFn gemm;
  DType act_type;
  size_t act_offset;  // into the batch's activation buffer
  int64_t act_row_bytes;
  size_t terms_offset;  // into the batch's block terms, where act_type is Q8_0
  int64_t first_group;
  bool sliced;  // its rows are stored in column slices (packed_row_slices.h)
  // Into the batch's block terms: its terms slice by slice (SliceTerms), for the gemm of a
  // sliced weight on Q8_0 activations; SIZE_MAX where it needs none.
  size_t slice_terms_offset;
};

// Whether `b` reads the activations of the earlier `a`: the same floats in the same type.
bool SameActivations(const ReadyProduct& a, const ReadyProduct& b) {
  const PackedProduct& pa = *a.product;
  const PackedProduct& pb = *b.product;
  return a.act_type == b.act_type && pa.x.data() == pb.x.data() && pa.x.size() == pb.x.size() &&
         pa.n_tokens == pb.n_tokens;
}

// "product 3 (q4_K [1408, 2048])", for errors from a batch.
std::string ProductName(size_t i, const PackedProduct& p) {
  return fmt::format("product {} ({} [{}, {}])", i, DTypeName(p.weight.dtype), p.weight.n_out,
                     p.weight.n_in);
}

}  // namespace

Status MatMulPackedBatch(std::span<const PackedProduct> products, ThreadPool* pool,
                         const KernelTable& table) {
  // Every product is checked before any runs, so an error leaves every y untouched. The
  // packed ones are given their place in the joint range and their activations.
  std::vector<ReadyProduct> ready;
  ready.reserve(products.size());
  std::vector<size_t> row_layout;
  size_t act_bytes = 0;
  size_t terms_count = 0;
  int64_t groups = 0;
  for (size_t i = 0; i < products.size(); ++i) {
    const PackedProduct& p = products[i];
    if (!p.weight.packed) {
      if (Status s = CheckOperandSizes(p.weight, p.x, p.n_tokens, p.y); !s.ok()) {
        return s.WithContext(ProductName(i, p));
      }
      row_layout.push_back(i);
      continue;
    }
    if (Status s = CheckPacked(p.weight, p.x, p.n_tokens, p.y, table); !s.ok()) {
      return s.WithContext(ProductName(i, p));
    }
    if (p.n_tokens == 0) continue;
    const QuantOps* ops = FindQuantOps(p.weight.dtype);
    if (ops == nullptr) {
      return InvalidArgumentError(
                 fmt::format("matmul: {} weights have no kernels", DTypeName(p.weight.dtype)))
          .WithContext(ProductName(i, p));
    }
    const DType act_type = ops->vec_dot_type;
    DSI_ASSIGN_OR_RETURN(const int64_t act_row_bytes, RowBytes(act_type, p.weight.n_in));
    ReadyProduct r{.product = &p,
                   .matvec = table.PackedMatvec(p.weight.dtype),
                   .gemm = table.PackedGemm(p.weight.dtype),
                   .act_type = act_type,
                   .act_offset = act_bytes,
                   .act_row_bytes = act_row_bytes,
                   .terms_offset = terms_count,
                   .first_group = groups,
                   .sliced = PackedRowSlices(p.weight.n_in).count > 1,
                   .slice_terms_offset = SIZE_MAX};
    const auto shared = std::find_if(ready.begin(), ready.end(), [&](const ReadyProduct& earlier) {
      return SameActivations(earlier, r);
    });
    if (shared != ready.end()) {
      r.act_offset = shared->act_offset;
      r.terms_offset = shared->terms_offset;
    } else {
      act_bytes += static_cast<size_t>(p.n_tokens * act_row_bytes);
      if (act_type == DType::kQ8_0) {
        terms_count += static_cast<size_t>(p.n_tokens * p.weight.n_in / kQK);
      }
    }
    if (r.sliced && act_type == DType::kQ8_0 && p.n_tokens > 1) {
      r.slice_terms_offset = terms_count;
      terms_count += static_cast<size_t>(p.n_tokens * p.weight.n_in / kQK);
    }
    groups += p.weight.n_out / kPackRows;
    ready.push_back(r);
  }
  for (const size_t i : row_layout) {
    const PackedProduct& p = products[i];
    const TensorView rows{.dtype = p.weight.dtype,
                          .shape = Shape{p.weight.n_out, p.weight.n_in},
                          .bytes = p.weight.bytes};
    if (Status s = MatMul(rows, p.x, p.n_tokens, p.y, pool, table); !s.ok()) {
      return s.WithContext(ProductName(i, p));
    }
  }
  if (ready.empty()) return Status::Ok();

  // Each distinct input converted once, into a buffer of this thread's that outlives the call
  // (decode makes hundreds of these calls per token).
  thread_local std::vector<std::byte> act_buffer;
  if (act_buffer.size() < act_bytes) act_buffer.resize(act_bytes);
  thread_local std::vector<Q8_0BlockTerms> terms_buffer;
  if (terms_buffer.size() < terms_count) terms_buffer.resize(terms_count);
  size_t converted = 0;
  for (const ReadyProduct& r : ready) {
    if (r.act_offset < converted) continue;  // shared with an earlier product
    const PackedProduct& p = *r.product;
    DSI_RETURN_IF_ERROR(QuantizeActivationsInto(table, r.act_type, p.x.data(), p.n_tokens,
                                                p.weight.n_in, act_buffer.data() + r.act_offset,
                                                pool, terms_buffer.data() + r.terms_offset));
    converted = r.act_offset + static_cast<size_t>(p.n_tokens * r.act_row_bytes);
  }
  for (const ReadyProduct& r : ready) {
    if (r.slice_terms_offset == SIZE_MAX) continue;
    SliceTerms(terms_buffer.data() + r.terms_offset, r.product->n_tokens, r.product->weight.n_in,
               terms_buffer.data() + r.slice_terms_offset);
  }
  // The workers reach the buffer through this pointer: the name would be their own.
  const std::byte* const act_base = act_buffer.data();
  const Q8_0BlockTerms* const terms_base = terms_buffer.data();
  const auto activations = [&](const ReadyProduct& r) {
    return QuantizedActivations{
        .data = act_base + r.act_offset,
        .row_bytes = r.act_row_bytes,
        .terms = r.act_type == DType::kQ8_0 ? terms_base + r.terms_offset : nullptr};
  };

  // Chunks in multiples of 4 groups, so that the gemm's wide tiles cover most of each (a chunk
  // that straddles two weights may start the second off that multiple; results are the same).
  if (groups > 0) {
    ForRangeBalanced(
        pool, groups,
        [&](int64_t begin, int64_t end) {
          // The first product whose groups reach past `begin`.
          auto it =
              std::upper_bound(ready.begin(), ready.end(), begin,
                               [](int64_t g, const ReadyProduct& r) { return g < r.first_group; });
          for (--it; it != ready.end() && it->first_group < end; ++it) {
            const PackedProduct& p = *it->product;
            const int64_t count = p.weight.n_out / kPackRows;
            const int64_t lo = std::max(begin, it->first_group) - it->first_group;
            const int64_t hi = std::min(end, it->first_group + count) - it->first_group;
            if (lo < hi && it->sliced) {
              RunSlicedGroups(p.weight, it->matvec, it->gemm, it->act_type, activations(*it),
                              it->slice_terms_offset == SIZE_MAX
                                  ? nullptr
                                  : terms_base + it->slice_terms_offset,
                              p.n_tokens, p.y, lo, hi);
            } else if (lo < hi) {
              RunGroups(p.weight, it->matvec, it->gemm, activations(*it), p.n_tokens, p.y, lo, hi);
            }
          }
        },
        /*grain=*/4);
  }
  for (const ReadyProduct& r : ready) {
    RunTailRows(r.product->weight, activations(r), r.product->n_tokens, r.product->y, table);
  }
  return Status::Ok();
}

}  // namespace dsinfer::kernels
