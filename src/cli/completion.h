// Shell completion scripts for `xop completion bash|zsh|fish`, generated from the CLI11 app tree
// so that every verb and flag (including ones added later) completes without a hand-kept list.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace xop {

// The completion script for `shell` ("bash", "zsh" or "fish"); empty for another shell.
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace xop
