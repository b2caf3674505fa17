#include "platform/cpu_features.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace dsinfer {
namespace {

CpuFeatures Avx512Machine() {
  CpuFeatures f;
  f.avx = f.avx2 = f.fma = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512_vnni = true;
  return f;
}

TEST(CpuFeaturesTest, BestIsaNeedsTheWholeFeatureSet) {
  CpuFeatures none;
  EXPECT_EQ(BestIsa(none), Isa::kScalar);
  CpuFeatures avx2_no_fma;
  avx2_no_fma.avx = avx2_no_fma.avx2 = avx2_no_fma.f16c = true;
  EXPECT_EQ(BestIsa(avx2_no_fma), Isa::kScalar);
  CpuFeatures f = Avx512Machine();
  EXPECT_EQ(BestIsa(f), Isa::kAvx512);
  f.avx512_vnni = false;
  EXPECT_EQ(BestIsa(f), Isa::kAvx2);
  f = Avx512Machine();
  f.amx_tile = f.amx_int8 = f.amx_bf16 = true;
  EXPECT_EQ(BestIsa(f), Isa::kAvx512) << "AMX without the OS permission must not be used";
  f.amx_permitted = true;
  EXPECT_EQ(BestIsa(f), Isa::kAmx);
}

TEST(CpuFeaturesTest, ForcingALowerIsaWorksAndHigherFails) {
  const CpuFeatures f = Avx512Machine();
  EXPECT_EQ(*ResolveIsa(f, ""), Isa::kAvx512);
  EXPECT_EQ(*ResolveIsa(f, "scalar"), Isa::kScalar);
  EXPECT_EQ(*ResolveIsa(f, "avx2"), Isa::kAvx2);
  const StatusOr<Isa> too_high = ResolveIsa(f, "amx");
  ASSERT_FALSE(too_high.ok());
  EXPECT_NE(too_high.status().message().find("at most 'avx512'"), std::string_view::npos);
  const StatusOr<Isa> unknown = ResolveIsa(f, "neon");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("DSINFER_ISA: unknown ISA 'neon'"),
            std::string_view::npos);
}

TEST(CpuFeaturesTest, VbmiBodiesNeedTheAvx512LevelAndBothExtensions) {
  CpuFeatures f = Avx512Machine();
  EXPECT_FALSE(HasAvx512VbmiBodies(f)) << "Cascade Lake: the level without VBMI";
  f.avx512_vbmi = true;
  EXPECT_FALSE(HasAvx512VbmiBodies(f)) << "VBMI without BITALG";
  f.avx512_bitalg = true;
  EXPECT_TRUE(HasAvx512VbmiBodies(f));
  f.avx512_vnni = false;
  EXPECT_FALSE(HasAvx512VbmiBodies(f)) << "below the avx512 level";
}

TEST(CpuFeaturesTest, ThisMachineIsConsistent) {
  const CpuFeatures& f = GetCpuFeatures();
  // Implications that hold on every real x86-64 CPU and OS.
  EXPECT_TRUE(!f.avx2 || f.avx);
  EXPECT_TRUE(!f.avx512f || f.os_saves_avx512);
  EXPECT_TRUE(!f.amx_permitted || f.amx_tile);
  EXPECT_TRUE(!f.avx512_vbmi || f.os_saves_avx512);
  EXPECT_FALSE(f.vendor.empty());
  const StatusOr<Isa> selected = SelectedIsa();
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  EXPECT_LE(static_cast<int>(*selected), static_cast<int>(BestIsa(f)));
  EXPECT_FALSE(DescribeCpuFeatures(f).empty() && f.avx);
}

// The family the kernels tune to (x86/avx512/packed_x8.h, MatvecTilesFor) is the one Linux
// reports: both add the extended family to a base family of 0xF.
TEST(CpuFeaturesTest, FamilyIsTheOneLinuxReports) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("cpu family", 0) != 0) continue;
    const size_t colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    EXPECT_EQ(GetCpuFeatures().family, std::stoi(line.substr(colon + 1))) << line;
    return;
  }
  GTEST_SKIP() << "no cpu family in /proc/cpuinfo";
}

}  // namespace
}  // namespace dsinfer
