// `dsinfer inspect PATH [--json]`: what is in a GGUF file, a safetensors file or an HF
// directory, read from the header only (milliseconds, whatever the size).
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "formats/file_report.h"
#include "formats/inspect_path.h"

namespace dsinfer {

int ReportError(const char* command, std::string_view message) {
  std::fprintf(stderr, "%s: error: %.*s\n", command, static_cast<int>(message.size()),
               message.data());
  return 1;
}

void RegisterInspectCommand(CLI::App& app, CommandFn* run) {
  struct Options {
    std::string path;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show architecture, hyper-parameters, metadata and tensors of a model");
  cmd->add_option("path", options->path, "GGUF file, .safetensors file or HF model directory")
      ->required();
  cmd->add_flag("--json", options->json, "print one JSON document for machines");
  cmd->callback([run, options] {
    *run = [options] {
      StatusOr<nlohmann::json> report = InspectPath(options->path);
      if (!report.ok()) return ReportError("dsinfer inspect", report.status().message());
      if (options->json) {
        const std::string text =
            report->dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
      } else {
        const std::string text = RenderReportText(*report);
        std::fwrite(text.data(), 1, text.size(), stdout);
      }
      return 0;
    };
  });
}

}  // namespace dsinfer
