// dsinfer: one binary, many subcommands (`dsinfer --help`).
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "base/logging.h"

int main(int argc, char** argv) {
  CLI::App app{"dsinfer: run and serve DeepSeek-family language models on your own hardware"};
  app.require_subcommand(1);
  std::string log_level = "info";
  bool log_json = false;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  app.add_flag("--log-json", log_json, "log as JSON lines");
  app.set_version_flag("--version", std::string("dsinfer 0.1.0"));

  dsinfer::CommandFn run;
  dsinfer::RegisterBenchCommand(app, &run);
  dsinfer::RegisterChatTemplateCommand(app, &run);
  dsinfer::RegisterConvertCommand(app, &run);
  dsinfer::RegisterInspectCommand(app, &run);
  dsinfer::RegisterPerplexityCommand(app, &run);
  dsinfer::RegisterQuantizeCommand(app, &run);
  dsinfer::RegisterRandomModelCommand(app, &run);
  dsinfer::RegisterRunCommand(app, &run);
  dsinfer::RegisterServeCommand(app, &run);
  dsinfer::RegisterSystemInfoCommand(app, &run);
  dsinfer::RegisterTokenizeCommands(app, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const dsinfer::StatusOr<dsinfer::LogLevel> level = dsinfer::ParseLogLevel(log_level);
  if (!level.ok()) return dsinfer::ReportError("dsinfer", level.status().message());
  dsinfer::InitLogging({.level = *level, .json = log_json});
  try {
    return run();
  } catch (const std::exception& e) {
    // Errors are Status values; an exception here is a bug, reported rather than aborting.
    return dsinfer::ReportError("dsinfer", std::string("internal error: ") + e.what());
  }
}
