// The AMX tile configuration (LDTILECFG's 64-byte palette-1 block) and the two compiler
// barriers that tile code needs under GCC. Included only by this folder's files.
//
// Why the configuration lives in static constant storage: GCC 12's _tile_loadconfig is an asm
// statement whose memory operand is declared as 8 bytes (*(const void**)config), not 64, so
// for a config built in a local struct the compiler may drop or sink the stores to the other
// 56 bytes; LDTILECFG then reads garbage and faults (another engine's AMX path died with
// SIGILL/#GP this way). A namespace-scope constexpr TileConfig is emitted, fully initialised,
// in read-only data: there are no stores to lose. Do not build configs on the stack.
//
// Why the barriers: GCC 12's _tile_loadd/_tile_stream_loadd asm statements take only the
// address in a register and declare no memory read, so stores to a scratch buffer (packed
// weights, padded activations) may be moved past the tile load that reads them, or deleted.
// TileReadBarrier() after writing such a buffer and before loading tiles from it prevents
// that. (_tile_stored declares a "memory" clobber, so reads after a tile store are safe.)
//
// Tile state is per thread: LoadTileConfig on the thread that runs the tile code, and
// _tile_release() on the same thread when done.
#ifndef DSINFER_KERNELS_X86_AMX_TILE_CONFIG_H_
#define DSINFER_KERNELS_X86_AMX_TILE_CONFIG_H_

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::amx {

inline constexpr int kMaxTileRows = 16;
inline constexpr int kMaxTileColBytes = 64;

struct alignas(64) TileConfig {
  uint8_t palette_id = 0;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tmm0..tmm7; entries 8..15 must stay 0
  uint8_t rows[16] = {};    // rows of tmm0..tmm7; entries 8..15 must stay 0
};
static_assert(sizeof(TileConfig) == 64);
static_assert(offsetof(TileConfig, colsb) == 16);
static_assert(offsetof(TileConfig, rows) == 48);

struct TileShape {
  int tmm;    // 0..7
  int rows;   // 1..16
  int colsb;  // 4..64, a multiple of 4
};

// Palette 1 with the given tiles; unused tiles stay 0 x 0. Invalid shapes fail compilation
// when used in a constant expression (the throw is not a constant expression).
template <size_t N>
constexpr TileConfig MakeTileConfig(const TileShape (&shapes)[N]) {
  TileConfig config;
  config.palette_id = 1;
  for (const TileShape& s : shapes) {
    if (s.tmm < 0 || s.tmm > 7 || s.rows < 1 || s.rows > kMaxTileRows || s.colsb < 4 ||
        s.colsb > kMaxTileColBytes || s.colsb % 4 != 0) {
      throw "invalid AMX tile shape";
    }
    config.rows[s.tmm] = static_cast<uint8_t>(s.rows);
    config.colsb[s.tmm] = static_cast<uint16_t>(s.colsb);
  }
  return config;
}

inline void TileReadBarrier() { __asm__ volatile("" ::: "memory"); }

// `config` must be a namespace-scope constexpr object (see the top of this file).
inline void LoadTileConfig(const TileConfig& config) {
  TileReadBarrier();
  _tile_loadconfig(&config);
}

}  // namespace dsinfer::kernels::amx

#endif  // DSINFER_KERNELS_X86_AMX_TILE_CONFIG_H_
