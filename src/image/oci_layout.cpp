#include "image/oci_layout.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/json_reader.h"
#include "crypto/digest.h"
#include "image/oci_image.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxLayoutFileBytes = int64_t{4} << 30;    // one blob in a layout tar
constexpr int64_t kMaxLayoutTotalBytes = int64_t{16} << 30;  // the whole tar, uncompressed
constexpr size_t kMaxLayoutEntries = 100000;

Result<std::string> read_small_file(const std::string& path, size_t max) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorCode::kNotFound, path + ": " + ec.message());
  if (size > max)
    return make_error(ErrorCode::kPayloadTooLarge, path + ": larger than " + std::to_string(max) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return make_error(ErrorCode::kInternal, path + ": read failed");
  return ss.str();
}

// A relative path with no "..", no empty or absolute form; "./" prefixes removed.
Result<std::string> clean_member_path(const std::string& raw) {
  if (raw.empty() || raw[0] == '/') return invalid("archive member \"" + raw + "\" has an absolute or empty path");
  std::string out;
  std::stringstream ss(raw);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return invalid("archive member \"" + raw + "\" escapes the archive");
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

// Extracts an OCI layout tar: directories and regular files only, sizes capped.
Status extract_layout_tar(const std::string& tar_path, const std::string& dest) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_none(a.get());
  if (archive_read_open_filename(a.get(), tar_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return invalid(tar_path + ": " + archive_error_string(a.get()));
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return make_error(ErrorCode::kInternal, dest + ": " + ec.message());
  int64_t total = 0;
  size_t entries = 0;
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) return invalid(tar_path + ": " + archive_error_string(a.get()));
    if (++entries > kMaxLayoutEntries) return invalid(tar_path + ": too many entries");
    const char* name = archive_entry_pathname(e);
    XOP_ASSIGN_OR_RETURN(std::string rel, clean_member_path(name != nullptr ? name : ""));
    if (rel.empty()) continue;
    const std::string target = dest + "/" + rel;
    const auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      fs::create_directories(target, ec);
      if (ec) return make_error(ErrorCode::kInternal, target + ": " + ec.message());
      continue;
    }
    if (type != AE_IFREG || archive_entry_hardlink(e) != nullptr) {
      return invalid(tar_path + ": member \"" + rel + "\" is not a regular file or directory");
    }
    const int64_t size = archive_entry_size(e);
    if (size < 0 || size > kMaxLayoutFileBytes) return invalid(tar_path + ": member \"" + rel + "\" is too large");
    fs::create_directories(fs::path(target).parent_path(), ec);
    if (ec) return make_error(ErrorCode::kInternal, target + ": " + ec.message());
    // O_NOFOLLOW|O_EXCL: nothing in dest is a symlink (we never create one), and a member listed twice is refused.
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return invalid(tar_path + ": cannot create \"" + rel + "\" (duplicate member?)");
    int64_t written = 0;
    char buf[1 << 16];
    while (true) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        ::close(fd);
        return invalid(tar_path + ": " + archive_error_string(a.get()));
      }
      written += n;
      total += n;
      if (written > kMaxLayoutFileBytes || total > kMaxLayoutTotalBytes) {
        ::close(fd);
        return invalid(tar_path + ": archive too large");
      }
      for (la_ssize_t off = 0; off < n;) {
        const ssize_t w = ::write(fd, buf + off, static_cast<size_t>(n - off));
        if (w < 0) {
          ::close(fd);
          return make_error(ErrorCode::kInternal, target + ": write failed");
        }
        off += w;
      }
    }
    ::close(fd);
  }
  return ok_status();
}

Result<OciBlobRef> checked_blob(const std::string& root, const OciDescriptor& d, const std::string& what) {
  const std::string hex = d.digest.substr(7);
  OciBlobRef ref{d.digest, root + "/blobs/sha256/" + hex, d.size};
  std::error_code ec;
  if (fs::is_symlink(ref.path, ec)) return invalid(what + " " + d.digest + ": blob is a symlink");
  if (!fs::is_regular_file(ref.path, ec))
    return make_error(ErrorCode::kNotFound, what + " " + d.digest + ": blob missing");
  const auto size = fs::file_size(ref.path, ec);
  if (ec || static_cast<int64_t>(size) != d.size) {
    return invalid(what + " " + d.digest + ": size " + std::to_string(size) + " differs from the descriptor's " +
                   std::to_string(d.size));
  }
  XOP_ASSIGN_OR_RETURN(std::string actual, oci_digest_of_file(ref.path));
  if (actual != d.digest) return invalid(what + " " + d.digest + ": content hashes to " + actual);
  return ref;
}

}  // namespace

Result<OciLayout> read_oci_layout(const std::string& path, const std::string& scratch_dir) {
  std::error_code ec;
  std::string root = path;
  if (!fs::is_directory(path, ec)) {
    if (!fs::is_regular_file(path, ec)) return make_error(ErrorCode::kNotFound, path + ": no such layout");
    root = scratch_dir + "/layout";
    fs::remove_all(root, ec);
    XOP_RETURN_IF_ERROR(extract_layout_tar(path, root));
  }
  XOP_ASSIGN_OR_RETURN(std::string marker, read_small_file(root + "/oci-layout", 4096));
  auto mj = parse_json(marker);
  if (!mj || !mj->is_object() || !mj->contains("imageLayoutVersion") || !(*mj)["imageLayoutVersion"].is_string()) {
    return invalid(root + "/oci-layout: expected {\"imageLayoutVersion\": \"1.0.0\"}");
  }
  XOP_ASSIGN_OR_RETURN(std::string index_text, read_small_file(root + "/index.json", kMaxOciDocumentBytes));
  XOP_ASSIGN_OR_RETURN(auto manifests, parse_oci_index(index_text));
  if (manifests.size() != 1) {
    return invalid(root + "/index.json: expected exactly one manifest, found " + std::to_string(manifests.size()));
  }
  const OciDescriptor& md = manifests[0];
  if (md.media_type != kOciManifestMediaType && md.media_type != kDockerManifestMediaType) {
    return make_error(ErrorCode::kUnsupportedMedia, "index.json: entry is \"" + md.media_type +
                                                        "\", not an image manifest (nested indexes are not supported)");
  }
  if (static_cast<size_t>(md.size) > kMaxOciDocumentBytes) {
    return make_error(ErrorCode::kPayloadTooLarge, "manifest larger than 1 MiB");
  }
  OciLayout out;
  out.manifest_digest = md.digest;
  XOP_ASSIGN_OR_RETURN(OciBlobRef mref, checked_blob(root, md, "manifest"));
  XOP_ASSIGN_OR_RETURN(std::string mtext, read_small_file(mref.path, kMaxOciDocumentBytes));
  XOP_ASSIGN_OR_RETURN(OciManifest m, parse_oci_manifest(mtext));
  out.blobs.push_back(std::move(mref));
  XOP_ASSIGN_OR_RETURN(OciBlobRef cref, checked_blob(root, m.config, "config"));
  XOP_ASSIGN_OR_RETURN(std::string ctext, read_small_file(cref.path, kMaxOciDocumentBytes));
  XOP_RETURN_IF_ERROR(parse_oci_image_config(ctext));
  out.blobs.push_back(std::move(cref));
  for (const auto& l : m.layers) {
    XOP_ASSIGN_OR_RETURN(OciBlobRef lref, checked_blob(root, l.desc, "layer"));
    out.blobs.push_back(std::move(lref));
  }
  return out;
}

}  // namespace xop
