#include "kernels/rope.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "base/check.h"
#include "kernels/for_range.h"
#include "kernels/isa_levels.h"
#include "kernels/kernel_table.h"
#include "kernels/reference/op_checks.h"

#if DSINFER_KERNELS_X86
#include "kernels/x86/avx2/rope_simd.h"
#include "kernels/x86/avx512/rope_simd.h"
#endif

namespace dsinfer::kernels {
namespace {

// ---- the scalar level: libm cos/sin in double, rotation in double ------------------------

void CosSinScalar(const float* inv_freq, int64_t n, int64_t position, double attention_factor,
                  float* cos_out, float* sin_out) {
  for (int64_t i = 0; i < n; ++i) {
    const double angle = static_cast<double>(position) * static_cast<double>(inv_freq[i]);
    cos_out[i] = static_cast<float>(std::cos(angle) * attention_factor);
    sin_out[i] = static_cast<float>(std::sin(angle) * attention_factor);
  }
}

void RotateHalfSplitScalar(const float* cos_a, const float* sin_a, int64_t half, float* x) {
  for (int64_t i = 0; i < half; ++i) {
    const double u = x[i];
    const double w = x[i + half];
    x[i] = static_cast<float>(u * cos_a[i] - w * sin_a[i]);
    x[i + half] = static_cast<float>(w * cos_a[i] + u * sin_a[i]);
  }
}

void RotateInterleavedScalar(const float* cos2, const float* sin2, int64_t dims, float* x) {
  for (int64_t j = 0; j < dims; j += 2) {
    const double u = x[j];
    const double w = x[j + 1];
    x[j] = static_cast<float>(u * cos2[j] + w * sin2[j]);
    x[j + 1] = static_cast<float>(w * cos2[j + 1] + u * sin2[j + 1]);
  }
}

RopeTable ScalarTable() {
  return RopeTable{.isa = Isa::kScalar,
                   .cos_sin = CosSinScalar,
                   .rotate_half_split = RotateHalfSplitScalar,
                   .rotate_interleaved = RotateInterleavedScalar};
}

RopeTable Avx2Table(const RopeTable& below) {
  RopeTable t = below;
  t.isa = Isa::kAvx2;
#if DSINFER_KERNELS_X86
  t.cos_sin = avx2::RopeCosSin;
  t.rotate_half_split = avx2::RopeRotateHalfSplit;
  t.rotate_interleaved = avx2::RopeRotateInterleaved;
#endif
  return t;
}

RopeTable Avx512Table(const RopeTable& below) {
  RopeTable t = below;
  t.isa = Isa::kAvx512;
#if DSINFER_KERNELS_X86
  t.cos_sin = avx512::RopeCosSin;
  t.rotate_half_split = avx512::RopeRotateHalfSplit;
  t.rotate_interleaved = avx512::RopeRotateInterleaved;
#endif
  return t;
}

const IsaLevels<RopeTable>& Tables() {
  // No AMX bodies: RoPE is not a matrix product.
  static const auto kTables =
      BuildIsaLevels<RopeTable>(ScalarTable, Avx2Table, Avx512Table, SameAsBelow<Isa::kAmx>());
  return kTables;
}

// The cos/sin table of one position, in the layout of `pairing`'s rotation, reused for every
// head at that position.
class RopeAngles {
 public:
  RopeAngles(RopePairing pairing, std::span<const float> inv_freq, double attention_factor,
             const RopeTable& table)
      : pairing_(pairing),
        inv_freq_(inv_freq),
        attention_factor_(attention_factor),
        table_(table),
        cos_(inv_freq.size()),
        sin_(inv_freq.size()) {
    if (pairing == RopePairing::kInterleaved) {
      cos2_.resize(2 * inv_freq.size());
      sin2_.resize(2 * inv_freq.size());
    }
  }

  void SetPosition(int64_t position) {
    if (has_position_ && position == position_) return;
    const auto half = static_cast<int64_t>(inv_freq_.size());
    table_.cos_sin(inv_freq_.data(), half, position, attention_factor_, cos_.data(), sin_.data());
    if (pairing_ == RopePairing::kInterleaved) {
      for (size_t i = 0; i < cos_.size(); ++i) {
        cos2_[2 * i] = cos_[i];
        cos2_[2 * i + 1] = cos_[i];
        sin2_[2 * i] = -sin_[i];
        sin2_[2 * i + 1] = sin_[i];
      }
    }
    position_ = position;
    has_position_ = true;
  }

  // Rotates the 2 * inv_freq.size() values at x.
  void Rotate(float* x) const {
    const auto half = static_cast<int64_t>(cos_.size());
    if (pairing_ == RopePairing::kInterleaved) {
      table_.rotate_interleaved(cos2_.data(), sin2_.data(), 2 * half, x);
    } else {
      table_.rotate_half_split(cos_.data(), sin_.data(), half, x);
    }
  }

 private:
  const RopePairing pairing_;
  const std::span<const float> inv_freq_;
  const double attention_factor_;
  const RopeTable& table_;
  std::vector<float> cos_, sin_;    // [half]
  std::vector<float> cos2_, sin2_;  // [2 * half], interleaved only
  int64_t position_ = 0;
  bool has_position_ = false;
};

}  // namespace

const RopeTable& RopeKernelsFor(Isa isa) { return LevelFor(Tables(), isa, "rope"); }

const RopeTable& RopeKernels() {
  static const RopeTable& selected = RopeKernelsFor(Kernels().isa);
  return selected;
}

void ApplyRope(RopePairing pairing, std::span<const float> inv_freq, int64_t position, float* x,
               int dims, double attention_factor, const RopeTable& table) {
  CheckRopeArgs(inv_freq.size(), dims);
  RopeAngles angles(pairing, inv_freq, attention_factor, table);
  angles.SetPosition(position);
  angles.Rotate(x);
}

void ApplyRopeBatches(RopePairing pairing, std::span<const float> inv_freq,
                      std::span<const int64_t> positions, std::span<const RopeBatchTarget> targets,
                      double attention_factor, ThreadPool* pool, const RopeTable& table) {
  // Rows are (target, token, head); a chunk walks its rows in order, so the table changes at
  // most once per token of each target it touches.
  const auto n_tokens = static_cast<int64_t>(positions.size());
  int64_t rows = 0;
  for (const RopeBatchTarget& target : targets) {
    CheckRopeBatchArgs(inv_freq.size(), positions.size(), target.layout, target.x.size());
    rows += n_tokens * target.layout.n_heads;
  }
  const auto rotate_rows = [&](int64_t begin, int64_t end) {
    RopeAngles angles(pairing, inv_freq, attention_factor, table);
    int64_t first = 0;  // the first row of targets[i]
    for (const RopeBatchTarget& target : targets) {
      const RopeBatchLayout& layout = target.layout;
      const int64_t count = n_tokens * layout.n_heads;
      for (int64_t r = std::max(begin, first) - first; r < std::min(end - first, count); ++r) {
        angles.SetPosition(positions[static_cast<size_t>(r / layout.n_heads)]);
        angles.Rotate(target.x.data() + r * layout.head_dim + layout.rope_offset);
      }
      first += count;
    }
  };
  if (rows == 0) return;
  ForRange(pool, rows, rotate_rows);
}

void ApplyRopeBatch(RopePairing pairing, std::span<const float> inv_freq,
                    std::span<const int64_t> positions, const RopeBatchLayout& layout,
                    std::span<float> x, double attention_factor, ThreadPool* pool,
                    const RopeTable& table) {
  const RopeBatchTarget target{.layout = layout, .x = x};
  ApplyRopeBatches(pairing, inv_freq, positions, {&target, 1}, attention_factor, pool, table);
}

}  // namespace dsinfer::kernels
