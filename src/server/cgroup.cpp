#include "server/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ignore_error.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxCounterFile = 1 << 20;
// A throttle limit no disk reaches; it exists only so that v1 blkio counts bytes.
constexpr const char* kHugeBps = "1000000000000000";
constexpr const char* kMeteredV1[] = {"cpu", "cpuacct", "memory", "pids", "blkio"};

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Reads a counter file (at most kMaxCounterFile bytes). Called per session per sample: small
// reads into a stack buffer, nothing allocated up front (a zero-filled 1 MiB string per read was
// most of the idle server's CPU).
Result<std::string> read_text(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kNotFound, path + ": cannot open");
  std::string out;
  char buf[4096];
  while (out.size() < kMaxCounterFile) {
    const ssize_t n = ::read(fd, buf, std::min(sizeof buf, kMaxCounterFile - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write_text(const std::string& path, const std::string& value) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return make_error(ErrorCode::kInternal, path + ": cannot open for writing");
  out << value;
  out.flush();
  if (!out) return make_error(ErrorCode::kInternal, path + ": write of \"" + value + "\" failed");
  return ok_status();
}

Status make_dir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return make_error(ErrorCode::kInternal, path + ": " + ec.message());
  return ok_status();
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream ss{std::string(text)};
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

Result<int64_t> parse_nonneg(std::string_view s, std::string_view what) {
  if (s.empty() || s.size() > 19) return invalid(std::string(what) + ": bad number \"" + std::string(s) + "\"");
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return invalid(std::string(what) + ": bad number \"" + std::string(s) + "\"");
    // 19 digits fit the length check but not always int64: refuse instead of overflowing.
    if (v > (INT64_MAX - (c - '0')) / 10)
      return invalid(std::string(what) + ": out of range \"" + std::string(s) + "\"");
    v = v * 10 + (c - '0');
  }
  return v;
}

// rmdir with retries while the kernel reports the cgroup busy (processes still exiting).
Status rmdir_retry(const std::string& dir, std::chrono::steady_clock::time_point end) {
  while (true) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return ok_status();
    const int err = errno;
    if ((err != EBUSY && err != ENOTEMPTY) || std::chrono::steady_clock::now() >= end) {
      return make_error(ErrorCode::kInternal, dir + ": rmdir: " + std::strerror(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the kernel, bounded by `end`
  }
}

}  // namespace

Result<int64_t> parse_cgroup_int(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return parse_nonneg(text, "cgroup counter");
}

Result<int64_t> parse_v1_blkio_total(std::string_view text) {
  std::istringstream ss{std::string(text)};
  std::string line;
  std::optional<int64_t> total;
  while (std::getline(ss, line)) {
    auto w = split_words(line);
    if (w.size() == 2 && w[0] == "Total") {
      XOP_ASSIGN_OR_RETURN(int64_t v, parse_nonneg(w[1], "blkio Total"));
      total = v;
    }
  }
  if (!total) return invalid("blkio stats: no Total line");
  return *total;
}

Result<int64_t> parse_v2_cpu_usage_ns(std::string_view cpu_stat) {
  std::istringstream ss{std::string(cpu_stat)};
  std::string line;
  while (std::getline(ss, line)) {
    auto w = split_words(line);
    if (w.size() == 2 && w[0] == "usage_usec") {
      XOP_ASSIGN_OR_RETURN(int64_t us, parse_nonneg(w[1], "cpu.stat usage_usec"));
      if (us > INT64_MAX / 1000) return invalid("cpu.stat usage_usec: out of range");
      return us * 1000;
    }
  }
  return invalid("cpu.stat: no usage_usec line");
}

Result<int64_t> parse_v2_io_bytes(std::string_view io_stat) {
  std::istringstream ss{std::string(io_stat)};
  std::string line;
  int64_t total = 0;
  while (std::getline(ss, line)) {
    auto w = split_words(line);
    for (size_t i = 1; i < w.size(); ++i) {  // w[0] is "major:minor"
      const auto eq = w[i].find('=');
      if (eq == std::string::npos) return invalid("io.stat: bad field \"" + w[i] + "\"");
      const std::string key = w[i].substr(0, eq);
      if (key != "rbytes" && key != "wbytes") continue;
      XOP_ASSIGN_OR_RETURN(int64_t v, parse_nonneg(std::string_view(w[i]).substr(eq + 1), "io.stat " + key));
      if (v > INT64_MAX - total) return invalid("io.stat: total out of range");
      total += v;
    }
  }
  return total;
}

Result<CgroupLayout> detect_cgroup_layout(const std::string& root) {
  CgroupLayout l;
  l.root = root;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return make_error(ErrorCode::kUnavailable, root + ": no cgroup file system");
  auto read_controllers = [](const std::string& dir) -> std::vector<std::string> {
    auto t = read_text(dir + "/cgroup.controllers");
    return t ? split_words(*t) : std::vector<std::string>{};
  };
  if (exists(root + "/cgroup.controllers")) {
    l.mode = CgroupMode::kV2;
    l.v2_dir = root;
    l.v2_controllers = read_controllers(root);
    for (const char* c : {"cpu", "memory", "pids"}) {
      if (std::find(l.v2_controllers.begin(), l.v2_controllers.end(), c) == l.v2_controllers.end()) {
        return make_error(ErrorCode::kUnavailable, root + ": cgroup v2 controller \"" + c + "\" is not available");
      }
    }
    return l;
  }
  l.mode = CgroupMode::kV1;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string dir = root + "/" + name;
    if (exists(dir + "/cgroup.controllers")) {  // the cgroup2 mount of a hybrid layout
      l.mode = CgroupMode::kHybrid;
      l.v2_dir = dir;
      l.v2_controllers = read_controllers(dir);
      continue;
    }
    l.v1_hierarchies.push_back(dir);
    std::istringstream parts(name);
    std::string c;
    while (std::getline(parts, c, ',')) {
      if (!c.empty() && !l.v1.contains(c)) l.v1[c] = dir;
    }
  }
  for (const char* c : {"cpu", "cpuacct", "memory", "pids"}) {
    if (!l.v1.contains(c)) {
      return make_error(ErrorCode::kUnavailable, root + ": cgroup v1 controller \"" + c + "\" is not mounted");
    }
  }
  return l;
}

Status set_cgroup_cpu_quota(const CgroupLayout& layout, const std::string& rel, int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return invalid("cpu quota and period must be positive");
  if (layout.mode == CgroupMode::kV2) {
    return write_text(layout.v2_dir + "/" + rel + "/cpu.max",
                      std::to_string(quota_us) + " " + std::to_string(period_us));
  }
  const std::string dir = layout.v1.at("cpu") + "/" + rel;
  XOP_RETURN_IF_ERROR(write_text(dir + "/cpu.cfs_period_us", std::to_string(period_us)));
  return write_text(dir + "/cpu.cfs_quota_us", std::to_string(quota_us));
}

Status create_session_cgroup(const CgroupLayout& layout, const std::string& rel, const CgroupLimits& limits) {
  if (layout.mode == CgroupMode::kV2) {
    // Enable the controllers at every level above the container, from the root down.
    std::string enable;
    for (const char* c : {"cpu", "memory", "pids", "io"}) {
      if (std::find(layout.v2_controllers.begin(), layout.v2_controllers.end(), c) != layout.v2_controllers.end()) {
        enable += std::string(enable.empty() ? "" : " ") + "+" + c;
      }
    }
    std::string dir = layout.v2_dir;
    XOP_RETURN_IF_ERROR(write_text(dir + "/cgroup.subtree_control", enable));
    std::istringstream parts(rel);
    std::string part;
    while (std::getline(parts, part, '/')) {
      if (part.empty()) continue;
      dir += "/" + part;
      XOP_RETURN_IF_ERROR(make_dir(dir));
      XOP_RETURN_IF_ERROR(write_text(dir + "/cgroup.subtree_control", enable));
    }
    if (limits.memory_bytes > 0)
      XOP_RETURN_IF_ERROR(write_text(dir + "/memory.max", std::to_string(limits.memory_bytes)));
    if (limits.cpu_quota_us > 0) {
      XOP_RETURN_IF_ERROR(write_text(dir + "/cpu.max",
                                     std::to_string(limits.cpu_quota_us) + " " + std::to_string(limits.cpu_period_us)));
    }
    if (limits.pids > 0) XOP_RETURN_IF_ERROR(write_text(dir + "/pids.max", std::to_string(limits.pids)));
    return ok_status();
  }
  for (const char* c : kMeteredV1) {
    auto it = layout.v1.find(c);
    if (it == layout.v1.end()) continue;  // blkio may be absent: disk bytes then stay 0
    XOP_RETURN_IF_ERROR(make_dir(it->second + "/" + rel));
  }
  auto at = [&](const char* c) { return layout.v1.at(c) + "/" + rel; };
  if (limits.memory_bytes > 0) {
    XOP_RETURN_IF_ERROR(write_text(at("memory") + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes)));
  }
  if (limits.cpu_quota_us > 0) {
    XOP_RETURN_IF_ERROR(write_text(at("cpu") + "/cpu.cfs_period_us", std::to_string(limits.cpu_period_us)));
    XOP_RETURN_IF_ERROR(write_text(at("cpu") + "/cpu.cfs_quota_us", std::to_string(limits.cpu_quota_us)));
  }
  if (limits.pids > 0) XOP_RETURN_IF_ERROR(write_text(at("pids") + "/pids.max", std::to_string(limits.pids)));
  if (!limits.block_device.empty() && layout.v1.contains("blkio")) {
    const std::string rule = limits.block_device + " " + kHugeBps;
    XOP_RETURN_IF_ERROR(write_text(at("blkio") + "/blkio.throttle.read_bps_device", rule));
    XOP_RETURN_IF_ERROR(write_text(at("blkio") + "/blkio.throttle.write_bps_device", rule));
  }
  return ok_status();
}

Result<CgroupUsage> read_session_usage(const CgroupLayout& layout, const std::string& rel) {
  CgroupUsage u;
  if (layout.mode == CgroupMode::kV2) {
    const std::string dir = layout.v2_dir + "/" + rel;
    auto cpu_text = read_text(dir + "/cpu.stat");
    if (!cpu_text) return make_error(ErrorCode::kNotFound, "cgroup " + rel + " does not exist");
    const std::string& cpu = *cpu_text;
    XOP_ASSIGN_OR_RETURN(u.cpu_ns, parse_v2_cpu_usage_ns(cpu));
    XOP_ASSIGN_OR_RETURN(std::string mem, read_text(dir + "/memory.current"));
    XOP_ASSIGN_OR_RETURN(u.memory_bytes, parse_cgroup_int(mem));
    if (auto io = read_text(dir + "/io.stat")) {
      XOP_ASSIGN_OR_RETURN(u.disk_bytes, parse_v2_io_bytes(*io));
      u.io_text = std::move(*io);
    }
    return u;
  }
  // One open per counter and no stat first: this runs per session per sample.
  const std::string cpuacct = layout.v1.at("cpuacct") + "/" + rel;
  auto cpu_text = read_text(cpuacct + "/cpuacct.usage");
  if (!cpu_text) return make_error(ErrorCode::kNotFound, "cgroup " + rel + " does not exist");
  const std::string& cpu = *cpu_text;
  XOP_ASSIGN_OR_RETURN(u.cpu_ns, parse_cgroup_int(cpu));
  XOP_ASSIGN_OR_RETURN(std::string mem, read_text(layout.v1.at("memory") + "/" + rel + "/memory.usage_in_bytes"));
  XOP_ASSIGN_OR_RETURN(u.memory_bytes, parse_cgroup_int(mem));
  if (auto it = layout.v1.find("blkio"); it != layout.v1.end()) {
    // The _recursive file includes the container's cgroup, also after it was deleted.
    if (auto io = read_text(it->second + "/" + rel + "/blkio.throttle.io_service_bytes_recursive")) {
      XOP_ASSIGN_OR_RETURN(u.disk_bytes, parse_v1_blkio_total(*io));
      u.io_text = std::move(*io);
    }
  }
  return u;
}

Status remove_session_cgroup(const CgroupLayout& layout, const std::string& rel, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  std::vector<std::string> bases = layout.v1_hierarchies;
  if (!layout.v2_dir.empty()) bases.push_back(layout.v2_dir);
  std::optional<Error> first;
  for (const auto& base : bases) {
    for (const std::string& dir : {base + "/" + rel + "/ctr", base + "/" + rel}) {
      auto s = rmdir_retry(dir, end);
      if (!s && !first) first = s.error();
    }
  }
  if (first) return tl::make_unexpected(*first);
  return ok_status();
}

void remove_parent_cgroup_if_empty(const CgroupLayout& layout, const std::string& parent) {
  std::vector<std::string> bases = layout.v1_hierarchies;
  if (!layout.v2_dir.empty()) bases.push_back(layout.v2_dir);
  for (const auto& base : bases) {
    const int rc = ::rmdir((base + "/" + parent).c_str());
    if (rc != 0 && errno != EBUSY && errno != ENOTEMPTY && errno != ENOENT) {  // busy while sessions remain
      ignore_errno(rc, "an empty parent cgroup left behind holds nothing; the next cleanup retries");
    }
  }
}

std::string block_device_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  const std::string sys = "/sys/dev/block/" + dev;
  std::error_code ec;
  if (!fs::exists(sys, ec)) return "";  // overlay, tmpfs, ...: no block device
  if (fs::exists(sys + "/partition", ec)) {
    const fs::path disk = fs::canonical(sys, ec).parent_path();
    if (ec) return "";
    auto t = read_text(disk.string() + "/dev");
    if (!t) return "";
    std::string d = *t;
    while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
    return d;
  }
  return dev;
}

}  // namespace xop
