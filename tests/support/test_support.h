// Helpers shared by tests: temporary directories, polling with a deadline (never sleep to
// synchronise), capability checks for privileged tests, and a child-process runner.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace xop::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Calls `cond` until it returns true or the deadline passes; returns whether it became true.
// Between calls it yields briefly (this is polling, not sleeping for synchronisation).
bool poll_until(const std::function<bool()>& cond, std::chrono::milliseconds deadline);

// Why a privileged test cannot run here, or empty when it can (root, cgroups, runc present).
std::string container_skip_reason();

// Writes a file (creating parents).
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

// A "Vm..." line of /proc/<pid>/status in KiB (e.g. "VmRSS", "VmHWM": the kernel's own count of
// a process's memory, ground truth for memory bounds), or -1 when absent.
int64_t proc_status_kib(int pid, const std::string& field);

// A child process (fork/exec) with stdout+stderr captured to a file; killed on destruction.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] bool running();
  // Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit status (waitpid form).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  [[nodiscard]] std::string log() const;

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string log_path_;
};

}  // namespace xop::testing
