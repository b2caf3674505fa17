#include "model/model_weights.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/check.h"
#include "base/logging.h"
#include "formats/gguf_names.h"
#include "kernels/for_range.h"
#include "kernels/matmul.h"
#include "platform/mapped_file.h"
#include "quant/blocks.h"
#include "quant/quant_ops.h"

namespace dsinfer {

Status Linear::Apply(std::span<const float> x, int64_t n_tokens, std::span<float> y,
                     ThreadPool* pool) const {
  // The packed path computes each token's row exactly as a lone token's, so a sequence's
  // results do not depend on what else is in the batch (greedy output is reproducible under
  // load). The tiled gemm of the row layout would prefill 1.6-3x faster (bench/README.md) but
  // sums in another order; it serves the types without a packed layout.
  if (packed.has_value()) return kernels::MatMulPacked(*packed, x, n_tokens, y, pool);
  return kernels::MatMul(view, x, n_tokens, y, pool);
}

kernels::PackedMatrixView Linear::Operand() const {
  if (packed.has_value()) return *packed;
  return {
      .dtype = view.dtype, .packed = false, .n_out = n_out(), .n_in = n_in(), .bytes = view.bytes};
}

kernels::PackedMatrixView Linear::ExpertOperand(int64_t e) const {
  const int64_t bytes = n_out() * view.row_bytes();
  DSI_CHECK_MSG(e >= 0 && (e + 1) * bytes <= static_cast<int64_t>(view.bytes.size()),
                "expert index out of range");
  if (!packed_experts.empty()) return packed_experts[static_cast<size_t>(e)];
  return {.dtype = view.dtype,
          .packed = false,
          .n_out = n_out(),
          .n_in = n_in(),
          .bytes = view.bytes.subspan(static_cast<size_t>(e * bytes), static_cast<size_t>(bytes))};
}

Status ApplySharedInput(std::span<const Linear* const> linears, std::span<const float> x,
                        int64_t n_tokens, std::span<const std::span<float>> ys, ThreadPool* pool) {
  if (linears.size() != ys.size()) {
    return InvalidArgumentError(
        fmt::format("{} linears and {} outputs", linears.size(), ys.size()));
  }
  std::vector<kernels::PackedProduct> products;
  products.reserve(linears.size());
  for (size_t i = 0; i < linears.size(); ++i) {
    products.push_back({.weight = linears[i]->Operand(), .x = x, .n_tokens = n_tokens, .y = ys[i]});
  }
  return kernels::MatMulPackedBatch(products, pool);
}

namespace {

// Looks tensors up by GGUF name and checks them against the layout.
class Binder {
 public:
  Binder(const WeightStore& store, const std::vector<TensorSpec>& layout,
         const ModelWeights::BindOptions& options)
      : store_(store), options_(options) {
    for (const TensorSpec& spec : layout) specs_.emplace(spec.gguf_name, &spec);
  }

  StatusOr<TensorView> View(const std::string& name) const {
    auto it = specs_.find(name);
    DSI_CHECK_MSG(it != specs_.end(), "binding a tensor the layout does not list");
    const TensorSpec& spec = *it->second;
    const TensorView* view = store_.Find(name);
    if (view == nullptr) return NotFoundError(fmt::format("tensor '{}' is missing", name));
    DSI_ASSIGN_OR_RETURN(const Shape expected, Shape::FromGgmlNe(spec.ne));
    if (!(view->shape == expected)) {
      return InvalidArgumentError(fmt::format("tensor '{}' has shape {}, the config implies {}",
                                              name, view->shape.ToString(), expected.ToString()));
    }
    if (FindQuantOps(view->dtype) == nullptr) {
      return UnimplementedError(fmt::format("tensor '{}' has type {}, which dsinfer cannot read",
                                            name, DTypeName(view->dtype)));
    }
    return *view;
  }

  StatusOr<Linear> Matrix(const std::string& name, ThreadPool* pool) {
    DSI_ASSIGN_OR_RETURN(TensorView view, View(name));
    if (FindQuantOps(view.dtype)->vec_dot == nullptr) {
      return UnimplementedError(
          fmt::format("tensor '{}': no matrix product for type {}", name, DTypeName(view.dtype)));
    }
    Linear linear{.view = view, .packed = std::nullopt, .packed_experts = {}};
    if (CopiesRows(name, view)) {
      DSI_ASSIGN_OR_RETURN(linear.view.bytes, CopyRows(view, pool));
      return linear;
    }
    if (!options_.pack_for_decode || !kernels::CanPack(view.dtype)) {
      // Read in place by every product (packing off, past the copy budget, or a tensor the
      // store owns): map it in now rather than on the first request, as
      // llama.cpp's MAP_POPULATE does. V2-Lite 8-layer IQ2_XXS, file out of the page cache:
      // the first 16-token prefill ran at 25-46 tok/s (later ones 124), now at 90-93.
      PrefaultForRead(view.bytes);
      return linear;
    }
    if (view.shape.rank() == 2) {
      DSI_ASSIGN_OR_RETURN(linear.packed, Pack(view, pool));
    } else if (view.shape.rank() == 3) {
      for (int64_t e = 0; e < view.shape.dim(0); ++e) {
        DSI_ASSIGN_OR_RETURN(auto packed, Pack(ExpertOf(view, e), pool));
        linear.packed_experts.push_back(packed);
      }
    }
    return linear;
  }

  StatusOr<std::vector<float>> Vector(const std::string& name) const {
    DSI_ASSIGN_OR_RETURN(TensorView view, View(name));
    const int64_t n = *view.shape.NumElements();
    std::vector<float> values(static_cast<size_t>(n));
    DSI_RETURN_IF_ERROR(DequantizeRows(view.dtype, view.bytes, view.shape.inner(), values)
                            .WithContext(fmt::format("tensor '{}'", name)));
    return values;
  }

  // Reserves the arena for every matrix of the layout that Matrix will pack or copy, before any
  // is (not token_embd, looked up by row, which a tied output reads in place; an unused
  // reservation costs address space).
  // The rows are copied only if they fit options_.row_copy_budget_bytes with the packed copies;
  // otherwise they are read in place.
  Status ReservePackedArena() {
    if (!options_.pack_for_decode) return Status::Ok();
    size_t packed = 0;
    size_t rows = 0;
    for (const auto& [name, spec] : specs_) {
      const TensorView* view = store_.Find(name);
      if (name == gguf::kTokenEmbd || view == nullptr) continue;
      const int rank = view->shape.rank();
      if (rank != 2 && rank != 3) continue;
      if (!kernels::CanPack(view->dtype)) {
        if (CopiesRows(name, *view)) rows += HugePageArena::Footprint(view->bytes.size());
        continue;
      }
      const int64_t n_experts = rank == 3 ? view->shape.dim(0) : 1;
      DSI_ASSIGN_OR_RETURN(
          const int64_t bytes,
          kernels::PackedMatrixBytes(view->dtype, view->shape.dim(rank - 2), view->shape.inner()));
      packed +=
          HugePageArena::Footprint(static_cast<size_t>(bytes)) * static_cast<size_t>(n_experts);
    }
    if (rows > 0 && packed + rows > options_.row_copy_budget_bytes) {
      LogWarn(
          "{:.1f} GiB of weights without a packed layout stay in the mapped file: with {:.1f} GiB "
          "of packed copies they exceed the {:.1f} GiB budget for copies",
          static_cast<double>(rows) / (1 << 30), static_cast<double>(packed) / (1 << 30),
          static_cast<double>(options_.row_copy_budget_bytes) / (1 << 30));
      copy_rows_ = false;
      rows = 0;
    }
    StatusOr<HugePageArena> arena = HugePageArena::Reserve(packed + rows);
    if (!arena.ok()) return arena.status().WithContext("packed weights");
    arena_ = std::move(arena).value();
    return Status::Ok();
  }

  uint64_t packed_bytes() const { return packed_bytes_; }
  HugePageArena TakeArena() { return std::move(arena_); }

 private:
  static TensorView ExpertOf(const TensorView& stacked, int64_t e) {
    const size_t expert_bytes = stacked.bytes.size() / static_cast<size_t>(stacked.shape.dim(0));
    return TensorView{
        .dtype = stacked.dtype,
        .shape = Shape{stacked.shape.dim(1), stacked.shape.dim(2)},
        .bytes = stacked.bytes.subspan(static_cast<size_t>(e) * expert_bytes, expert_bytes)};
  }

  // Whether Matrix copies the rows of `view` into the arena: those of a type without a packed
  // layout in the mapped file, which the page cache holds on 4 KiB pages, while packing is on
  // and they fit the budget (ReservePackedArena). On huge pages a 1.5B BF16 file decoded at
  // 16.5-16.7 tok/s against 8.6-9.9 in place, and prefilled at 86-88 against 34-36; IQ2_XXS
  // prefilled at 102 against 52-61 (bench/README.md). Tensors the store owns stay where they
  // are, as a copy would double them for the model's life.
  bool CopiesRows(const std::string& name, const TensorView& view) const {
    const int rank = view.shape.rank();
    return options_.pack_for_decode && copy_rows_ && !kernels::CanPack(view.dtype) &&
           store_.IsMapped(name) && (rank == 2 || rank == 3) && !view.bytes.empty();
  }

  // `view`'s bytes copied into the arena, 2 MiB a piece over the pool (each thread faults in
  // the huge pages it writes).
  StatusOr<std::span<const std::byte>> CopyRows(const TensorView& view, ThreadPool* pool) {
    DSI_ASSIGN_OR_RETURN(const std::span<std::byte> out, arena_.Take(view.bytes.size()));
    constexpr int64_t kPiece = int64_t{2} << 20;
    const auto size = static_cast<int64_t>(view.bytes.size());
    kernels::ForRange(pool, (size + kPiece - 1) / kPiece, [&](int64_t begin, int64_t end) {
      const int64_t from = begin * kPiece;
      const int64_t to = std::min(end * kPiece, size);
      std::memcpy(out.data() + from, view.bytes.data() + from, static_cast<size_t>(to - from));
    });
    return std::span<const std::byte>(out);
  }

  // A packed copy of `view` in the arena (its type has a packed layout).
  StatusOr<kernels::PackedMatrixView> Pack(const TensorView& view, ThreadPool* pool) {
    const int64_t n_out = view.shape.dim(0);
    const int64_t n_in = view.shape.dim(1);
    DSI_ASSIGN_OR_RETURN(const int64_t bytes, kernels::PackedMatrixBytes(view.dtype, n_out, n_in));
    DSI_ASSIGN_OR_RETURN(const std::span<std::byte> out, arena_.Take(static_cast<size_t>(bytes)));
    DSI_RETURN_IF_ERROR(kernels::PackInto(view, out, pool));
    packed_bytes_ += static_cast<uint64_t>(bytes);
    return kernels::PackedMatrixView{
        .dtype = view.dtype, .packed = true, .n_out = n_out, .n_in = n_in, .bytes = out};
  }

  const WeightStore& store_;
  ModelWeights::BindOptions options_;
  std::unordered_map<std::string, const TensorSpec*> specs_;
  uint64_t packed_bytes_ = 0;
  HugePageArena arena_;
  bool copy_rows_ = true;  // false when the rows would not fit the budget (ReservePackedArena)
};

std::string L(int64_t layer, std::string_view base, std::string_view suffix = "weight") {
  return gguf::LayerTensor(layer, base, suffix);
}

// The type a legacy file's attn_k_b takes when it is cut from attn_kv_b (SplitFusedKvB): the
// file's own where it is a float type, whose transpose is exact; Q8_0 where the file's is a block
// type, whose blocks run along the other axis, and the head dim fills them; else F32. Q8_0 adds
// one rounding of at most half a step (max|block| / 254) to each value the file already rounded,
// and is read at 1.06 bytes a value against F32's 4: V3's K rows, 0.54 GB a token against 2.05.
DType SplitKBType(DType file_type, int64_t head_dim) {
  if (file_type == DType::kF16 || file_type == DType::kBF16) return file_type;
  if (file_type != DType::kF32 && head_dim % kQK == 0) return DType::kQ8_0;
  return DType::kF32;
}

// Cuts a legacy fused attn_kv_b {rkv, H*(dn+dv)} into attn_k_b {dn, rkv, H} (head h's K-nope
// rows, transposed, in SplitKBType) and attn_v_b {rkv, dv, H} (head h's V rows: the file's
// bytes, in its type). Heads are cut in parallel over `pool`.
Status SplitFusedKvB(const ModelConfig& c, int64_t layer, WeightStore& store, ThreadPool* pool) {
  const std::string name = L(layer, gguf::kAttnKvB);
  const TensorView* kv_b = store.Find(name);
  if (kv_b == nullptr) return NotFoundError(fmt::format("tensor '{}' is missing", name));
  const int64_t h = c.num_attention_heads;
  const int64_t dn = c.qk_nope_head_dim;
  const int64_t dv = c.v_head_dim;
  const int64_t rkv = c.kv_lora_rank;
  const Shape expected{h * (dn + dv), rkv};
  if (!(kv_b->shape == expected)) {
    return InvalidArgumentError(fmt::format("tensor '{}' has shape {}, the config implies {}", name,
                                            kv_b->shape.ToString(), expected.ToString()));
  }
  const DType v_type = kv_b->dtype;  // `kv_b` may move once the store grows
  const DType k_type = SplitKBType(v_type, dn);
  DSI_ASSIGN_OR_RETURN(const int64_t k_row_bytes, RowBytes(k_type, dn));
  const int64_t v_row_bytes = kv_b->row_bytes();
  AlignedBuffer k_b(static_cast<size_t>(h * rkv * k_row_bytes));
  AlignedBuffer v_b(static_cast<size_t>(h * dv * v_row_bytes));
  std::vector<Status> errors(static_cast<size_t>(h));
  kernels::ForRange(pool, h, [&](int64_t begin, int64_t end) {
    std::vector<float> rows(static_cast<size_t>(dn * rkv));
    std::vector<float> k(static_cast<size_t>(rkv * dn));
    for (int64_t head = begin; head < end; ++head) {
      const std::byte* head_rows = kv_b->bytes.data() + head * (dn + dv) * v_row_bytes;
      std::memcpy(v_b.data() + head * dv * v_row_bytes, head_rows + dn * v_row_bytes,
                  static_cast<size_t>(dv * v_row_bytes));
      Status& error = errors[static_cast<size_t>(head)];
      error = DequantizeRows(kv_b->dtype, {head_rows, static_cast<size_t>(dn * v_row_bytes)}, rkv,
                             rows);
      if (!error.ok()) continue;
      for (int64_t d = 0; d < dn; ++d) {
        for (int64_t r = 0; r < rkv; ++r) k[r * dn + d] = rows[d * rkv + r];
      }
      error = QuantizeRows(
          k_type, k, dn,
          {k_b.data() + head * rkv * k_row_bytes, static_cast<size_t>(rkv * k_row_bytes)});
    }
  });
  for (const Status& s : errors) {
    DSI_RETURN_IF_ERROR(s.WithContext(fmt::format("tensor '{}'", name)));
  }
  DSI_RETURN_IF_ERROR(
      store.AddOwned(L(layer, gguf::kAttnKB), k_type, Shape{h, rkv, dn}, std::move(k_b)));
  return store.AddOwned(L(layer, gguf::kAttnVB), v_type, Shape{h, dv, rkv}, std::move(v_b));
}

StatusOr<DenseMlpWeights> BindMlp(Binder& b, int64_t i, std::string_view gate, std::string_view up,
                                  std::string_view down, ThreadPool* pool) {
  DenseMlpWeights w;
  DSI_ASSIGN_OR_RETURN(w.gate, b.Matrix(L(i, gate), pool));
  DSI_ASSIGN_OR_RETURN(w.up, b.Matrix(L(i, up), pool));
  DSI_ASSIGN_OR_RETURN(w.down, b.Matrix(L(i, down), pool));
  return w;
}

StatusOr<StandardAttentionWeights> BindStandardAttention(const ModelConfig& c, Binder& b, int64_t i,
                                                         ThreadPool* pool) {
  StandardAttentionWeights w;
  DSI_ASSIGN_OR_RETURN(w.q, b.Matrix(L(i, gguf::kAttnQ), pool));
  DSI_ASSIGN_OR_RETURN(w.k, b.Matrix(L(i, gguf::kAttnK), pool));
  DSI_ASSIGN_OR_RETURN(w.v, b.Matrix(L(i, gguf::kAttnV), pool));
  DSI_ASSIGN_OR_RETURN(w.o, b.Matrix(L(i, gguf::kAttnOutput), pool));
  if (c.qkv_bias) {
    DSI_ASSIGN_OR_RETURN(w.q_bias, b.Vector(L(i, gguf::kAttnQ, "bias")));
    DSI_ASSIGN_OR_RETURN(w.k_bias, b.Vector(L(i, gguf::kAttnK, "bias")));
    DSI_ASSIGN_OR_RETURN(w.v_bias, b.Vector(L(i, gguf::kAttnV, "bias")));
  }
  return w;
}

StatusOr<MlaWeights> BindMla(const ModelConfig& c, Binder& b, int64_t i, ThreadPool* pool) {
  MlaWeights w;
  if (c.q_lora_rank > 0) {
    DSI_ASSIGN_OR_RETURN(w.q_a, b.Matrix(L(i, gguf::kAttnQA), pool));
    DSI_ASSIGN_OR_RETURN(w.q_a_norm, b.Vector(L(i, gguf::kAttnQANorm)));
    DSI_ASSIGN_OR_RETURN(w.q_b, b.Matrix(L(i, gguf::kAttnQB), pool));
  } else {
    DSI_ASSIGN_OR_RETURN(w.q, b.Matrix(L(i, gguf::kAttnQ), pool));
  }
  DSI_ASSIGN_OR_RETURN(w.kv_a_mqa, b.Matrix(L(i, gguf::kAttnKvAMqa), pool));
  DSI_ASSIGN_OR_RETURN(w.kv_a_norm, b.Vector(L(i, gguf::kAttnKvANorm)));
  DSI_ASSIGN_OR_RETURN(w.k_b, b.Matrix(L(i, gguf::kAttnKB), pool));
  DSI_ASSIGN_OR_RETURN(w.v_b, b.Matrix(L(i, gguf::kAttnVB), pool));
  DSI_ASSIGN_OR_RETURN(w.o, b.Matrix(L(i, gguf::kAttnOutput), pool));
  return w;
}

StatusOr<MoeWeights> BindMoe(const ModelConfig& c, Binder& b, int64_t i, ThreadPool* pool) {
  MoeWeights w;
  DSI_ASSIGN_OR_RETURN(w.router, b.Matrix(L(i, gguf::kFfnGateInp), pool));
  if (c.has_expert_bias()) {
    DSI_ASSIGN_OR_RETURN(w.expert_bias, b.Vector(L(i, gguf::kExpProbsB, "bias")));
  }
  DSI_ASSIGN_OR_RETURN(w.gate_exps, b.Matrix(L(i, gguf::kFfnGateExps), pool));
  DSI_ASSIGN_OR_RETURN(w.up_exps, b.Matrix(L(i, gguf::kFfnUpExps), pool));
  DSI_ASSIGN_OR_RETURN(w.down_exps, b.Matrix(L(i, gguf::kFfnDownExps), pool));
  if (c.n_shared_experts > 0) {
    DSI_ASSIGN_OR_RETURN(
        w.shared, BindMlp(b, i, gguf::kFfnGateShexp, gguf::kFfnUpShexp, gguf::kFfnDownShexp, pool));
  }
  return w;
}

}  // namespace

StatusOr<ModelWeights> ModelWeights::Bind(const ModelConfig& config, WeightStore& store,
                                          const BindOptions& options, ThreadPool* pool) {
  DSI_RETURN_IF_ERROR(config.Validate());
  if (config.uses_mla() && store.Find(L(0, gguf::kAttnKB)) == nullptr &&
      store.Find(L(0, gguf::kAttnKvB)) != nullptr) {
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
      DSI_RETURN_IF_ERROR(SplitFusedKvB(config, i, store, pool));
    }
  }
  const std::vector<TensorSpec> layout =
      BuildTensorLayout(config, {.kv_b_form = MlaKvBForm::kSplit});
  Binder b(store, layout, options);
  DSI_RETURN_IF_ERROR(b.ReservePackedArena());
  ModelWeights w;
  DSI_ASSIGN_OR_RETURN(w.token_embd, b.View(std::string(gguf::kTokenEmbd)));
  if (config.rope.scaling == RopeScalingType::kLlama3 && store.Find(gguf::kRopeFreqs) != nullptr) {
    DSI_ASSIGN_OR_RETURN(w.rope_divisors, b.Vector(std::string(gguf::kRopeFreqs)));
  }
  w.layers.resize(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    LayerWeights& layer = w.layers[static_cast<size_t>(i)];
    DSI_ASSIGN_OR_RETURN(layer.attn_norm, b.Vector(L(i, gguf::kAttnNorm)));
    DSI_ASSIGN_OR_RETURN(layer.ffn_norm, b.Vector(L(i, gguf::kFfnNorm)));
    if (config.uses_mla()) {
      DSI_ASSIGN_OR_RETURN(layer.mla, BindMla(config, b, i, pool));
    } else {
      DSI_ASSIGN_OR_RETURN(layer.attention, BindStandardAttention(config, b, i, pool));
    }
    if (config.IsMoeLayer(i)) {
      DSI_ASSIGN_OR_RETURN(layer.moe, BindMoe(config, b, i, pool));
    } else {
      DSI_ASSIGN_OR_RETURN(layer.mlp,
                           BindMlp(b, i, gguf::kFfnGate, gguf::kFfnUp, gguf::kFfnDown, pool));
    }
  }
  DSI_ASSIGN_OR_RETURN(w.output_norm, b.Vector(std::string(gguf::kOutputNorm)));
  if (config.tie_word_embeddings) {
    w.output = Linear{.view = w.token_embd, .packed = std::nullopt, .packed_experts = {}};
  } else {
    DSI_ASSIGN_OR_RETURN(w.output, b.Matrix(std::string(gguf::kOutput), pool));
  }
  w.packed_bytes = b.packed_bytes();
  w.packed_arena = b.TakeArena();
  return w;
}

}  // namespace dsinfer
