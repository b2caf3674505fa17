// The per-ISA tables of an op family (dot kernels, element-wise ops, RoPE, ...), built the
// same way for each: level 0 (scalar) from the family's reference bodies, then each higher
// level (avx2 < avx512 < amx) as a copy of the level below with its own bodies patched in,
// so every entry of every level is callable. Built once (function-local static), immutable
// afterwards, and handed out only for levels the CPU supports.
#ifndef DSINFER_KERNELS_ISA_LEVELS_H_
#define DSINFER_KERNELS_ISA_LEVELS_H_

#include <array>

#include "platform/cpu_features.h"

namespace dsinfer::kernels {

inline constexpr int kNumIsaLevels = static_cast<int>(Isa::kAmx) + 1;

template <typename Table>
using IsaLevels = std::array<Table, kNumIsaLevels>;

// levels[0] = scalar(); levels[i] = patch_i(levels[i - 1]) for avx2, avx512, amx.
template <typename Table, typename Scalar, typename Avx2, typename Avx512, typename Amx>
IsaLevels<Table> BuildIsaLevels(Scalar scalar, Avx2 avx2, Avx512 avx512, Amx amx) {
  IsaLevels<Table> levels;
  levels[0] = scalar();
  levels[1] = avx2(levels[0]);
  levels[2] = avx512(levels[1]);
  levels[3] = amx(levels[2]);
  return levels;
}

// A level that adds no bodies of its own: the level below, relabelled (the `isa` member).
template <Isa kIsa>
struct SameAsBelow {
  template <typename Table>
  Table operator()(const Table& below) const {
    Table t = below;
    t.isa = kIsa;
    return t;
  }
};

// Checks that this CPU can run level `isa` of the op family named `family`: running a body the
// CPU lacks would be SIGILL later, far from the cause.
void CheckIsaLevelSupported(Isa isa, const char* family);

template <typename Table>
const Table& LevelFor(const IsaLevels<Table>& levels, Isa isa, const char* family) {
  CheckIsaLevelSupported(isa, family);
  return levels[static_cast<int>(isa)];
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_ISA_LEVELS_H_
