// HugePageArena: one anonymous mapping that many long-lived buffers are carved from, advised
// for transparent huge pages.
//
// Decode streams every packed weight once per token. On 4 KiB pages that stream takes a TLB
// miss every 4 KiB; on 2 MiB pages it reads 10-15 % faster on this host (the bandwidth probe
// already maps its buffer that way, so without them decode could not reach its roofline).
// Giving each weight its own 2 MiB-aligned buffer would waste up to 2 MiB per weight, per
// expert on MoE models; one arena wastes at most the part of its last huge page it never
// touches.
//
// The mapping is reserved at once, without MAP_NORESERVE, so that a system that accounts for
// its memory refuses a model that does not fit here, with an error, rather than while packing
// (the callers size it exactly). Pages are backed as they are written. MADV_HUGEPAGE is
// advice: with transparent huge pages off ("never") the arena works on 4 KiB pages.
//
// Thread safety: Take is not synchronised; the memory it hands out may be used from any
// thread. Move-only; the memory is unmapped when the arena goes.
#ifndef DSINFER_PLATFORM_HUGE_PAGE_ARENA_H_
#define DSINFER_PLATFORM_HUGE_PAGE_ARENA_H_

#include <cstddef>
#include <span>

#include "base/status.h"

namespace dsinfer {

class HugePageArena {
 public:
  static constexpr size_t kAlignment = 64;  // of every buffer Take hands out

  HugePageArena() = default;
  ~HugePageArena();
  HugePageArena(HugePageArena&& other) noexcept;
  HugePageArena& operator=(HugePageArena&& other) noexcept;
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;

  // An arena of `capacity` bytes (0: an empty arena that maps nothing). ResourceExhausted
  // with the system's reason when the mapping fails.
  static StatusOr<HugePageArena> Reserve(size_t capacity);

  // The next `bytes` bytes, zero-filled and kAlignment-aligned; ResourceExhausted when they do
  // not fit what is left.
  StatusOr<std::span<std::byte>> Take(size_t bytes);

  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  // Every byte Take has handed out so far, as one range.
  std::span<const std::byte> taken() const { return {base_, used_}; }

  // Bytes Take consumes for a buffer of `bytes` (rounded up to kAlignment), so that a caller
  // can size the arena exactly.
  static size_t Footprint(size_t bytes);

 private:
  void Release();

  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  std::byte* base_ = nullptr;  // mapping_ rounded up to a huge page
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_HUGE_PAGE_ARENA_H_
