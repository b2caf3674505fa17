#include "platform/huge_page_arena.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace dsinfer {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

HugePageArena::~HugePageArena() { Release(); }

HugePageArena::HugePageArena(HugePageArena&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      base_(std::exchange(other.base_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)) {}

HugePageArena& HugePageArena::operator=(HugePageArena&& other) noexcept {
  if (this != &other) {
    Release();
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    base_ = std::exchange(other.base_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
  }
  return *this;
}

void HugePageArena::Release() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  base_ = nullptr;
  capacity_ = used_ = 0;
}

size_t HugePageArena::Footprint(size_t bytes) { return RoundUp(bytes, kAlignment); }

StatusOr<HugePageArena> HugePageArena::Reserve(size_t capacity) {
  HugePageArena arena;
  if (capacity == 0) return arena;
  if (capacity > SIZE_MAX / 2) {
    return ResourceExhaustedError(fmt::format("cannot reserve {} bytes", capacity));
  }
  // One extra huge page, so that the arena can start on a huge-page boundary.
  const size_t bytes = RoundUp(capacity, kHugePage) + kHugePage;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return ResourceExhaustedError(
        fmt::format("cannot map {} MiB: {}", bytes >> 20, std::strerror(errno)));
  }
  arena.mapping_ = p;
  arena.mapping_bytes_ = bytes;
  const auto start = reinterpret_cast<uintptr_t>(p);
  arena.base_ = static_cast<std::byte*>(p) + (RoundUp(start, kHugePage) - start);
  arena.capacity_ = capacity;
  // Advice only: the arena works on 4 KiB pages where transparent huge pages are off.
  ::madvise(arena.base_, RoundUp(capacity, kHugePage), MADV_HUGEPAGE);
  return arena;
}

StatusOr<std::span<std::byte>> HugePageArena::Take(size_t bytes) {
  const size_t footprint = Footprint(bytes);
  if (footprint < bytes || footprint > capacity_ - used_) {
    return ResourceExhaustedError(fmt::format("arena of {} bytes has {} left, {} asked", capacity_,
                                              capacity_ - used_, bytes));
  }
  std::byte* p = base_ + used_;  // fresh anonymous pages: already zero
  used_ += footprint;
  return std::span<std::byte>(p, bytes);
}

}  // namespace dsinfer
