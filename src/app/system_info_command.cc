// `dsinfer system-info`: the CPU features and the kernel ISA this machine will use.
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "app/commands.h"
#include "platform/cpu_features.h"

namespace dsinfer {

void RegisterSystemInfoCommand(CLI::App& app, CommandFn* run) {
  CLI::App* cmd =
      app.add_subcommand("system-info", "Show CPU features and the selected kernel ISA");
  cmd->callback([run] {
    *run = [] {
      const CpuFeatures& f = GetCpuFeatures();
      std::printf("cpu:       %s (%s)\n", f.brand.c_str(), f.vendor.c_str());
      std::printf("threads:   %u\n", std::thread::hardware_concurrency());
      std::printf("features:  %s\n", DescribeCpuFeatures(f).c_str());
      std::printf("best isa:  %s%s\n", std::string(IsaName(BestIsa(f))).c_str(),
                  HasAvx512VbmiBodies(f) ? " (with its VBMI bodies)" : "");
      const StatusOr<Isa> selected = SelectedIsa();
      if (!selected.ok()) return ReportError("dsinfer system-info", selected.status().message());
      std::printf("selected:  %s%s\n", std::string(IsaName(*selected)).c_str(),
                  std::getenv("DSINFER_ISA") ? " (forced by DSINFER_ISA)" : "");
      return 0;
    };
  });
}

}  // namespace dsinfer
