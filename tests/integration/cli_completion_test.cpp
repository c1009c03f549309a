// `xop completion bash|zsh|fish` loaded into the real shells, which then complete real command
// lines: verbs, nested verbs, flags (a verb's own and the global ones), a flag's value (never taken
// for a verb), a flag's and an argument's choices, and file names where a verb takes a file. Each
// shell's test skips, saying so, where that shell is not installed (scripts/setup installs all three).
// zsh is driven through its zpty module: a real interactive zsh with compinit, a TAB typed, and the
// matches its completion system adds captured.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "integration/run_xop.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

// A command line (the cursor at its end) and the completions it must offer, sorted.
struct Case {
  std::string line;
  std::string want;
};

// What every shell must complete, in a directory holding manifest.yaml.
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"xop acc", "account"},
      {"xop account ", "create fund payout show"},
      {"xop account payout --m", "--memo"},
      {"xop corp ch", "check"},
      {"xop server st", "status"},
      {"xop stop --a", "--all"},
      {"xop --json logs --t", "--tail"},
      {"xop sessions --pro", "--profile"},
      {"xop de", "deploy dev"},
      {"xop --profile dev dep", "deploy"},  // "dev" is --profile's value, not the verb dev
      {"xop --home /tmp dep", "deploy"},
      {"xop dev --runtime ", "crun mock runc"},
      {"xop --json completion ", "bash fish zsh"},
      {"xop deploy mani", "manifest.yaml"},
  };
  return c;
}

bool have(const std::string& shell) { return std::system(("command -v " + shell + " >/dev/null 2>&1").c_str()) == 0; }

// Runs `cmd` with sh; its exit status and stdout (stderr to `err_file`).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return {::pclose(p), out};
}

// Words separated by spaces or newlines, sorted, joined by one space.
std::string sorted(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  std::sort(w.begin(), w.end());
  std::string out;
  for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
  return out;
}

// The completion script for `shell`, written in `dir` as `name`; returns its path.
std::string script(const TempDir& dir, const std::string& shell, const std::string& name) {
  auto r = run_xop({"completion", shell});
  EXPECT_EQ(r.code, 0) << r.err;
  write_file(dir.file(name), r.out);
  write_file(dir.file("manifest.yaml"), "name: x\n");
  return dir.file(name);
}

// Checks each case's output line "[LINE] MATCHES..." against cases().
void expect_cases(const std::string& out, const std::string& shell) {
  for (const auto& c : cases()) {
    const std::string tag = "[" + c.line + "]";
    const auto at = out.find(tag);
    ASSERT_NE(at, std::string::npos) << shell << ": no result for " << tag << "\n" << out;
    const auto end = out.find('\n', at);
    EXPECT_EQ(sorted(out.substr(at + tag.size(), end - at - tag.size())), c.want) << shell << " " << tag;
  }
}

TEST(ShellCompletion, BashCompletesRealCommandLines) {
  if (!have("bash")) GTEST_SKIP() << "bash is not installed";
  TempDir dir;
  const std::string file = script(dir, "bash", "xop.bash");
  // As bash calls the function: COMP_WORDS split as readline splits (no quotes used here).
  std::string sh = "cd " + dir.path() + " && source " + file +
                   "\ncomplete -p xop\n"
                   "t() { read -ra COMP_WORDS <<< \"$1\"; [[ \"$1\" == *' ' ]] && COMP_WORDS+=(''); "
                   "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _xop; echo \"[$1] ${COMPREPLY[*]}\"; }\n";
  for (const auto& c : cases()) sh += "t '" + c.line + "'\n";
  write_file(dir.file("t.sh"), sh);
  auto [code, out] = run("bash --norc --noprofile " + dir.file("t.sh") + " 2>&1");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("complete -o bashdefault -o default -F _xop xop"), std::string::npos) << out;
  expect_cases(out, "bash");
}

TEST(ShellCompletion, FishCompletesRealCommandLines) {
  if (!have("fish")) GTEST_SKIP() << "fish is not installed";
  TempDir dir;
  const std::string file = script(dir, "fish", "xop.fish");
  std::string sh = "cd " + dir.path() + "; source " + file + "\n";
  for (const auto& c : cases()) {
    sh += "echo '[" + c.line + "]' (complete -C'" + c.line + "' | string replace -r '\\t.*' '')\n";
  }
  write_file(dir.file("t.fish"), sh);
  auto [code, out] = run("HOME=" + dir.path() + " fish --no-config " + dir.file("t.fish") + " 2>&1");
  ASSERT_EQ(code, 0) << out;
  expect_cases(out, "fish");
  // Where the verbs are, no file names; the description of each verb comes along.
  auto [c2, described] = run("HOME=" + dir.path() + " fish --no-config -c 'cd " + dir.path() + "; source " + file +
                             "; complete -C\"xop \"' 2>&1");
  ASSERT_EQ(c2, 0) << described;
  EXPECT_NE(described.find("deploy\tDeploy a manifest"), std::string::npos) << described;
  EXPECT_EQ(described.find("manifest.yaml"), std::string::npos) << described;
}

TEST(ShellCompletion, ZshCompletesRealCommandLinesThroughCompinit) {
  if (!have("zsh")) GTEST_SKIP() << "zsh is not installed";
  TempDir dir;
  // Installed as users do: the script saved as _xop in a directory of $fpath, then compinit.
  script(dir, "zsh", "functions/_xop");
  // Loaded: compinit finds it and binds it to xop.
  auto [code, out] = run("cd " + dir.path() + " && HOME=" + dir.path() + " zsh -f -c 'fpath=(" + dir.file("functions") +
                         " $fpath); autoload -U compinit; compinit -u -D; print -r -- comp=$_comps[xop]' 2>&1");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("comp=_xop"), std::string::npos) << out;
  // Sourced after compinit, as `source <(xop completion zsh)` does: the function is defined.
  std::tie(code, out) =
      run("cd " + dir.path() + " && HOME=" + dir.path() + " zsh -f -c 'autoload -U compinit; compinit -u -D; source " +
          dir.file("functions/_xop") + "; print -r -- comp=$_comps[xop] fn=$+functions[_xop]' 2>&1");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("comp=_xop fn=1"), std::string::npos) << out;

  // Real completion: an interactive zsh on a pseudo-terminal (zpty), TAB after each line. compadd
  // is wrapped to print what the completion system adds (matched against the word typed), and
  // the shell exits once completion is done.
  write_file(dir.file("init.zsh"),
             "PROMPT=\n"
             "fpath=(" +
                 dir.file("functions") +
                 " $fpath)\n"
                 "autoload -U compinit\n"
                 "compinit -u -D\n"
                 "bindkey '^I' complete-word\n"
                 "comppostfuncs=(exit)\n"
                 "compadd() {\n"
                 "  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"$@\"; return; fi\n"
                 "  local -a hits; local h\n"
                 "  builtin compadd -A hits \"$@\"\n"
                 "  for h in $hits; do print -r -- \"MATCH:$h\"; done\n"
                 "  builtin compadd \"$@\"\n"
                 "}\n");
  write_file(dir.file("drive.zsh"),
             "zmodload zsh/zpty\n"
             "for line in \"$@\"; do\n"
             "  zpty z zsh -f -i\n"
             "  zpty -w z \"source " +
                 dir.file("init.zsh") +
                 "\"\n"
                 "  zpty -w -n z \"$line\"$'\\t'\n"
                 "  out=''\n"
                 "  while zpty -r z chunk; do out+=$chunk; done\n"
                 "  zpty -d z 2>/dev/null\n"
                 "  found=()\n"
                 "  while [[ $out =~ $'MATCH:([^\\r\\n]*)' ]]; do found+=(\"$match[1]\"); out=${out[MEND+1,-1]}; done\n"
                 "  print -r -- \"[$line] ${(j: :)found}\"\n"
                 "done\n");
  std::string cmd = "cd " + dir.path() + " && HOME=" + dir.path() + " timeout 120 zsh -f " + dir.file("drive.zsh");
  for (const auto& c : cases()) cmd += " '" + c.line + "'";
  std::tie(code, out) = run(cmd + " 2>&1");
  ASSERT_EQ(code, 0) << out;
  expect_cases(out, "zsh");
}

}  // namespace
}  // namespace xop::testing
