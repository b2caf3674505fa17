#include "platform/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace dsinfer {
namespace {

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

uint64_t ReadXcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(uint32_t reg, int bit) { return (reg >> bit) & 1U; }

// Linux >= 5.16 keeps AMX tile data disabled until a process asks (arch_prctl).
bool RequestAmxPermission() {
  constexpr int kArchGetXcompPerm = 0x1022;
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) return false;
  uint64_t bitmask = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &bitmask) != 0) return false;
  return (bitmask >> kXfeatureXtiledata) & 1U;
}

CpuFeatures Probe() {
  CpuFeatures f;
  const CpuidRegs leaf0 = Cpuid(0, 0);
  const uint32_t max_leaf = leaf0.eax;
  char vendor[13] = {};
  std::memcpy(vendor + 0, &leaf0.ebx, 4);
  std::memcpy(vendor + 4, &leaf0.edx, 4);
  std::memcpy(vendor + 8, &leaf0.ecx, 4);
  f.vendor = vendor;

  if (Cpuid(0x80000000, 0).eax >= 0x80000004) {
    char brand[49] = {};
    for (size_t i = 0; i < 3; ++i) {
      const CpuidRegs r = Cpuid(0x80000002 + static_cast<uint32_t>(i), 0);
      std::memcpy(brand + 16 * i + 0, &r.eax, 4);
      std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
      std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
      std::memcpy(brand + 16 * i + 12, &r.edx, 4);
    }
    f.brand = brand;
    const size_t first = f.brand.find_first_not_of(' ');
    f.brand = first == std::string::npos ? "" : f.brand.substr(first);
  }

  if (max_leaf < 1) return f;
  const CpuidRegs leaf1 = Cpuid(1, 0);
  const auto base_family = static_cast<int>((leaf1.eax >> 8) & 0xFU);
  f.family =
      base_family == 0xF ? base_family + static_cast<int>((leaf1.eax >> 20) & 0xFFU) : base_family;
  f.sse42 = Bit(leaf1.ecx, 20);
  f.fma = Bit(leaf1.ecx, 12);
  f.f16c = Bit(leaf1.ecx, 29);
  const bool osxsave = Bit(leaf1.ecx, 27);
  const bool cpu_avx = Bit(leaf1.ecx, 28);
  const uint64_t xcr0 = osxsave ? ReadXcr0() : 0;
  f.os_saves_avx = (xcr0 & 0x6) == 0x6;
  f.os_saves_avx512 = f.os_saves_avx && (xcr0 & 0xE0) == 0xE0;
  f.os_saves_amx = (xcr0 & 0x60000) == 0x60000;
  f.avx = cpu_avx && f.os_saves_avx;
  f.fma = f.fma && f.avx;
  f.f16c = f.f16c && f.avx;

  if (max_leaf >= 7) {
    const CpuidRegs leaf7 = Cpuid(7, 0);
    f.avx2 = Bit(leaf7.ebx, 5) && f.avx;
    f.bmi2 = Bit(leaf7.ebx, 8);
    const bool z = f.os_saves_avx512;
    f.avx512f = Bit(leaf7.ebx, 16) && z;
    f.avx512dq = Bit(leaf7.ebx, 17) && z;
    f.avx512bw = Bit(leaf7.ebx, 30) && z;
    f.avx512vl = Bit(leaf7.ebx, 31) && z;
    f.avx512_vnni = Bit(leaf7.ecx, 11) && z;
    f.avx512_vbmi = Bit(leaf7.ecx, 1) && z;
    f.avx512_bitalg = Bit(leaf7.ecx, 12) && z;
    f.avx512_fp16 = Bit(leaf7.edx, 23) && z;
    f.amx_bf16 = Bit(leaf7.edx, 22) && f.os_saves_amx;
    f.amx_tile = Bit(leaf7.edx, 24) && f.os_saves_amx;
    f.amx_int8 = Bit(leaf7.edx, 25) && f.os_saves_amx;
    if (leaf7.eax >= 1) {
      const CpuidRegs leaf7_1 = Cpuid(7, 1);
      f.avx_vnni = Bit(leaf7_1.eax, 4) && f.avx;
      f.avx512_bf16 = Bit(leaf7_1.eax, 5) && z;
    }
  }
  if (f.amx_tile) f.amx_permitted = RequestAmxPermission();
  return f;
}

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
  }
  return "unknown";
}

StatusOr<Isa> ParseIsa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    if (name == IsaName(isa)) return isa;
  }
  return InvalidArgumentError(
      fmt::format("unknown ISA '{}' (expected scalar|avx2|avx512|amx)", name));
}

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures kFeatures = Probe();
  return kFeatures;
}

Isa BestIsa(const CpuFeatures& f) {
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni;
  const bool amx = avx512 && f.amx_tile && f.amx_int8 && f.amx_bf16 && f.amx_permitted;
  if (amx) return Isa::kAmx;
  if (avx512) return Isa::kAvx512;
  if (avx2) return Isa::kAvx2;
  return Isa::kScalar;
}

bool HasAvx512VbmiBodies(const CpuFeatures& f) {
  return static_cast<int>(BestIsa(f)) >= static_cast<int>(Isa::kAvx512) && f.avx512_vbmi &&
         f.avx512_bitalg;
}

StatusOr<Isa> ResolveIsa(const CpuFeatures& features, std::string_view forced) {
  const Isa best = BestIsa(features);
  if (forced.empty()) return best;
  const StatusOr<Isa> parsed = ParseIsa(forced);
  if (!parsed.ok()) return parsed.status().WithContext("DSINFER_ISA");
  const Isa wanted = *parsed;
  if (static_cast<int>(wanted) > static_cast<int>(best)) {
    return FailedPreconditionError(
        fmt::format("DSINFER_ISA={} but this CPU supports at most '{}'", forced, IsaName(best)));
  }
  return wanted;
}

StatusOr<Isa> SelectedIsa() {
  static const StatusOr<Isa> kSelected = [] {
    const char* env = std::getenv("DSINFER_ISA");
    return ResolveIsa(GetCpuFeatures(), env == nullptr ? "" : env);
  }();
  return kSelected;
}

std::string DescribeCpuFeatures(const CpuFeatures& f) {
  std::string out;
  const auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(f.sse42, "sse4.2");
  add(f.avx, "avx");
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.bmi2, "bmi2");
  add(f.avx_vnni, "avx-vnni");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512_vnni, "avx512-vnni");
  add(f.avx512_bf16, "avx512-bf16");
  add(f.avx512_fp16, "avx512-fp16");
  add(f.avx512_vbmi, "avx512-vbmi");
  add(f.avx512_bitalg, "avx512-bitalg");
  add(f.amx_tile, "amx-tile");
  add(f.amx_int8, "amx-int8");
  add(f.amx_bf16, "amx-bf16");
  if (f.amx_tile) add(true, f.amx_permitted ? "(amx permitted)" : "(amx NOT permitted by OS)");
  return out;
}

}  // namespace dsinfer
