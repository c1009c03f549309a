// Builds tar archives (optionally gzip) in memory with libarchive, including hostile ones:
// absolute paths, "..", symlinks and hard links anywhere, device nodes, lying sizes.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <string>
#include <vector>

namespace xop::testing {

class TarBuilder {
 public:
  explicit TarBuilder(bool gzip = false) : gzip_(gzip) {}

  TarBuilder& file(const std::string& path, const std::string& content, int mode = 0644) {
    entries_.push_back({path, AE_IFREG, mode, content, "", "", 0});
    return *this;
  }
  TarBuilder& dir(const std::string& path, int mode = 0755) {
    entries_.push_back({path, AE_IFDIR, mode, "", "", "", 0});
    return *this;
  }
  TarBuilder& symlink(const std::string& path, const std::string& target) {
    entries_.push_back({path, AE_IFLNK, 0777, "", target, "", 0});
    return *this;
  }
  TarBuilder& hardlink(const std::string& path, const std::string& target) {
    entries_.push_back({path, AE_IFREG, 0644, "", "", target, 0});
    return *this;
  }
  TarBuilder& chardev(const std::string& path, int major, int minor) {
    entries_.push_back({path, AE_IFCHR, 0666, "", "", "", makedev_(major, minor)});
    return *this;
  }
  [[nodiscard]] std::string build() const {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip_) archive_write_add_filter_gzip(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, const_cast<std::string*>(&out), nullptr, &TarBuilder::write_cb, nullptr);
    for (const auto& e : entries_) {
      archive_entry* ae = archive_entry_new();
      archive_entry_set_pathname(ae, e.path.c_str());
      archive_entry_set_filetype(ae, e.type);
      archive_entry_set_perm(ae, static_cast<mode_t>(e.mode));
      archive_entry_set_uid(ae, 0);
      archive_entry_set_gid(ae, 0);
      if (!e.link.empty()) archive_entry_set_symlink(ae, e.link.c_str());
      if (!e.hardlink.empty()) archive_entry_set_hardlink(ae, e.hardlink.c_str());
      if (e.type == AE_IFCHR) archive_entry_set_rdev(ae, e.rdev);
      if (e.type == AE_IFREG && e.hardlink.empty()) archive_entry_set_size(ae, static_cast<int64_t>(e.content.size()));
      archive_write_header(a, ae);
      if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

 private:
  struct Entry {
    std::string path;
    unsigned type;
    int mode;
    std::string content;
    std::string link;
    std::string hardlink;
    dev_t rdev;
  };
  static dev_t makedev_(int major, int minor) {
    return static_cast<dev_t>((static_cast<unsigned>(major) << 8) | static_cast<unsigned>(minor));
  }
  static la_ssize_t write_cb(archive*, void* client, const void* buf, size_t n) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }

  bool gzip_;
  std::vector<Entry> entries_;
};

// One ustar header for a regular file claiming `size` bytes (up to 8 GiB - 1), with no data
// after it: a truncated archive whose header lies about a huge member.
inline std::string lying_tar_header(const std::string& name, int64_t size) {
  std::string h(512, '\0');
  name.copy(h.data(), std::min<size_t>(name.size(), 99));
  auto octal = [&](size_t off, size_t len, int64_t v) {
    std::string digits(len - 1, '0');
    for (size_t i = len - 1; i-- > 0 && v > 0; v /= 8) digits[i] = static_cast<char>('0' + v % 8);
    digits.copy(h.data() + off, len - 1);
  };
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h[156] = '0';
  std::string("ustar").copy(h.data() + 257, 5);
  h[263] = '0';
  h[264] = '0';
  std::fill(h.begin() + 148, h.begin() + 156, ' ');
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::string cs(6, '0');
  for (size_t i = 6; i-- > 0; sum /= 8) cs[i] = static_cast<char>('0' + sum % 8);
  cs.copy(h.data() + 148, 6);
  h[154] = '\0';
  h[155] = ' ';
  return h + std::string(1024, 'x');
}

}  // namespace xop::testing
