#include "kernels/isa_levels.h"

#include <string>

#include "base/check.h"

namespace dsinfer::kernels {

void CheckIsaLevelSupported(Isa isa, const char* family) {
  const Isa best = BestIsa(GetCpuFeatures());
  DSI_CHECK_MSG(static_cast<int>(isa) <= static_cast<int>(best),
                "%s level %s requested but this CPU supports at most %s", family,
                std::string(IsaName(isa)).c_str(), std::string(IsaName(best)).c_str());
}

}  // namespace dsinfer::kernels
