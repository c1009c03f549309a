#include "integration/xop_run.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace xop::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

XopRun run_xop(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  char out_tmpl[] = "/tmp/xop-run-out-XXXXXX";
  char err_tmpl[] = "/tmp/xop-run-err-XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  XopRun r;
  if (out_fd < 0 || err_fd < 0) return r;
  std::vector<std::string> argv_s = {XOP_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = env;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    for (auto& e : env_s) ::putenv(e.data());
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  ::close(out_fd);
  ::close(err_fd);
  if (pid > 0 && WIFEXITED(status)) r.code = WEXITSTATUS(status);
  r.out = slurp(out_tmpl);
  r.err = slurp(err_tmpl);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return r;
}

}  // namespace xop::testing
