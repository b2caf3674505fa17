// The `dsinfer` subcommands. Each Register* adds one subcommand to the CLI and sets `*run` to
// the function main() calls when that subcommand was chosen; the function returns the
// process exit code (0 success, 1 failure with the cause printed to stderr).
#ifndef DSINFER_APP_COMMANDS_H_
#define DSINFER_APP_COMMANDS_H_

#include <functional>
#include <string_view>

#include <CLI/CLI.hpp>

namespace dsinfer {

using CommandFn = std::function<int()>;

void RegisterBenchCommand(CLI::App& app, CommandFn* run);
void RegisterChatTemplateCommand(CLI::App& app, CommandFn* run);
void RegisterConvertCommand(CLI::App& app, CommandFn* run);
void RegisterInspectCommand(CLI::App& app, CommandFn* run);
void RegisterPerplexityCommand(CLI::App& app, CommandFn* run);
void RegisterQuantizeCommand(CLI::App& app, CommandFn* run);
void RegisterRandomModelCommand(CLI::App& app, CommandFn* run);
void RegisterRunCommand(CLI::App& app, CommandFn* run);
void RegisterServeCommand(CLI::App& app, CommandFn* run);
void RegisterSystemInfoCommand(CLI::App& app, CommandFn* run);
// `tokenize` and `detokenize`.
void RegisterTokenizeCommands(CLI::App& app, CommandFn* run);

// Prints "dsinfer <command>: error: <message>" to stderr and returns 1.
int ReportError(const char* command, std::string_view message);

}  // namespace dsinfer

#endif  // DSINFER_APP_COMMANDS_H_
