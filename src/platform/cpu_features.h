// What the CPU can run, read once from cpuid and XCR0, and the kernel ISA level to use.
//
// A feature counts only if the CPU has it AND the OS saves its register state (XCR0):
// AVX needs XMM|YMM state, AVX-512 also opmask|ZMM_Hi256|Hi16_ZMM, AMX also XTILECFG|XTILEDATA
// plus a per-process permission on Linux (arch_prctl ARCH_REQ_XCOMP_PERM), requested here.
//
// DSINFER_ISA=scalar|avx2|avx512|amx forces a level; asking for more than the CPU has is an
// error rather than a SIGILL later. Thread-safe after the first call (function-local static).
#ifndef DSINFER_PLATFORM_CPU_FEATURES_H_
#define DSINFER_PLATFORM_CPU_FEATURES_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace dsinfer {

struct CpuFeatures {
  std::string vendor;
  std::string brand;
  // cpuid leaf 1's display family (base + extended): which generation of a vendor's cores,
  // where kernels tune to it (AMD Zen 4 is 0x19, Zen 5 0x1A); 0 where cpuid has no leaf 1.
  int family = 0;
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool bmi2 = false;
  bool avx_vnni = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx512_fp16 = false;
  bool avx512_vbmi = false;
  bool avx512_bitalg = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
  bool os_saves_avx = false;     // XCR0 bits 1,2
  bool os_saves_avx512 = false;  // XCR0 bits 5,6,7
  bool os_saves_amx = false;     // XCR0 bits 17,18
  bool amx_permitted = false;    // Linux granted XTILEDATA to this process
};

// Kernel levels, each a superset of the one before.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

std::string_view IsaName(Isa isa);
StatusOr<Isa> ParseIsa(std::string_view name);

// Reads cpuid/XCR0 and, if the CPU has AMX, asks Linux for tile-data permission.
// Cached: the hardware is probed once per process.
const CpuFeatures& GetCpuFeatures();

// The highest level `features` fully supports: AVX2 needs avx2+fma+f16c; AVX-512 needs
// F/BW/VL/DQ/VNNI; AMX needs tile+int8+bf16, OS state and the permission.
Isa BestIsa(const CpuFeatures& features);

// Whether the avx512 level may use the bodies that also need AVX-512 VBMI and BITALG
// (kernels/x86/avx512_vbmi): the level's own features plus those two.
bool HasAvx512VbmiBodies(const CpuFeatures& features);

// BestIsa() unless `forced` (the value of DSINFER_ISA) names a level; a forced level above
// what the machine supports is an error.
StatusOr<Isa> ResolveIsa(const CpuFeatures& features, std::string_view forced);

// ResolveIsa(GetCpuFeatures(), getenv("DSINFER_ISA")), computed once.
StatusOr<Isa> SelectedIsa();

// "avx2 fma f16c avx512f ..." for logs and `dsinfer inspect`.
std::string DescribeCpuFeatures(const CpuFeatures& features);

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_CPU_FEATURES_H_
