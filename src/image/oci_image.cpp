#include "image/oci_image.h"

#include "core/json_reader.h"
#include "crypto/digest.h"
#include "image/image_user.h"

namespace xop {
namespace {

// For a field the reader must check (type, size; unknown fields are refused by finish()) whose
// value the parser does not use: the check is what matters, any failure is reported by finish().
template <typename T>
void checked_not_used(const T& value) {
  static_cast<void>(value);
}

constexpr size_t kMaxAnnotations = 64;
constexpr size_t kMaxMediaTypeLen = 255;
constexpr size_t kMaxEnv = 1024;
constexpr size_t kMaxArgs = 1024;
constexpr size_t kMaxArgLen = size_t{64} * 1024;

Result<Json> parse_document(std::string_view text, const char* what) {
  if (text.size() > kMaxOciDocumentBytes) {
    return make_error(ErrorCode::kPayloadTooLarge,
                      std::string(what) + " is larger than " + std::to_string(kMaxOciDocumentBytes) + " bytes");
  }
  auto j = parse_json(text, 16);
  if (!j) return invalid(std::string(what) + ": " + j.error().message);
  return j;
}

void check_annotations(JsonReader& r) {
  const Json* a = r.opt_object("annotations");
  if (a == nullptr) return;
  if (a->size() > kMaxAnnotations) {
    r.fail("annotations", "more than " + std::to_string(kMaxAnnotations) + " entries");
    return;
  }
  for (auto it = a->begin(); it != a->end(); ++it) {
    if (!it->is_string() || it.key().size() > 1024 || it->get_ref<const std::string&>().size() > 4096) {
      r.fail("annotations", "expected short string values");
      return;
    }
  }
}

// Reads one descriptor. `allow_platform` for index entries.
Result<OciDescriptor> parse_descriptor(const Json& j, const std::string& where, bool allow_platform) {
  JsonReader r(j, where);
  OciDescriptor d;
  d.media_type = r.str("mediaType", kMaxMediaTypeLen);
  d.digest = r.str("digest", 100);
  d.size = r.i64("size", 0, INT64_MAX);
  check_annotations(r);
  const std::vector<std::string> urls = r.str_array("urls", 16);
  if (r.ok() && !urls.empty()) r.fail("urls", "foreign (non-distributable) blobs are not supported");
  checked_not_used(r.opt_str("data", kMaxOciDocumentBytes));
  checked_not_used(r.opt_str("artifactType", kMaxMediaTypeLen));
  if (allow_platform) checked_not_used(r.opt_object("platform"));
  if (r.ok() && !is_oci_digest(d.digest)) r.fail("digest", "expected sha256:<64 lowercase hex>");
  XOP_RETURN_IF_ERROR(r.finish());
  return d;
}

}  // namespace

Result<LayerCompression> layer_compression(std::string_view mt) {
  if (mt == "application/vnd.oci.image.layer.v1.tar") return LayerCompression::kNone;
  if (mt == "application/vnd.oci.image.layer.v1.tar+gzip" ||
      mt == "application/vnd.docker.image.rootfs.diff.tar.gzip") {
    return LayerCompression::kGzip;
  }
  if (mt == "application/vnd.oci.image.layer.v1.tar+zstd") return LayerCompression::kZstd;
  return make_error(ErrorCode::kUnsupportedMedia, "unsupported layer media type \"" + std::string(mt) + "\"");
}

Result<OciManifest> parse_oci_manifest(std::string_view text) {
  XOP_ASSIGN_OR_RETURN(Json j, parse_document(text, "manifest"));
  JsonReader r(j, "manifest");
  checked_not_used(r.i64("schemaVersion", 2, 2));
  const auto media_type = r.opt_str("mediaType", kMaxMediaTypeLen);
  const Json& config = r.object("config");
  const Json& layers = r.array("layers", kMaxOciLayers);
  check_annotations(r);
  checked_not_used(r.opt_str("artifactType", kMaxMediaTypeLen));
  checked_not_used(r.opt_object("subject"));
  XOP_RETURN_IF_ERROR(r.finish());
  if (media_type && *media_type != kOciManifestMediaType && *media_type != kDockerManifestMediaType) {
    return make_error(ErrorCode::kUnsupportedMedia, "manifest.mediaType: unsupported \"" + *media_type + "\"");
  }

  OciManifest m;
  XOP_ASSIGN_OR_RETURN(m.config, parse_descriptor(config, "manifest.config", false));
  if (m.config.media_type != kOciConfigMediaType && m.config.media_type != kDockerConfigMediaType) {
    return make_error(ErrorCode::kUnsupportedMedia,
                      "manifest.config.mediaType: unsupported \"" + m.config.media_type + "\"");
  }
  if (static_cast<size_t>(m.config.size) > kMaxOciDocumentBytes) {
    return make_error(ErrorCode::kPayloadTooLarge, "manifest.config.size: config larger than 1 MiB");
  }
  if (layers.empty()) return invalid("manifest.layers: an image needs at least one layer");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string where = "manifest.layers[" + std::to_string(i) + "]";
    XOP_ASSIGN_OR_RETURN(OciDescriptor d, parse_descriptor(layers[i], where, false));
    auto c = layer_compression(d.media_type);
    if (!c) return make_error(c.error().code, where + ": " + c.error().message);
    m.layers.push_back(OciLayerRef{std::move(d), *c});
  }
  return m;
}

Result<OciImageConfig> parse_oci_image_config(std::string_view text) {
  XOP_ASSIGN_OR_RETURN(Json j, parse_document(text, "image config"));
  if (!j.is_object()) return invalid("image config: expected an object");
  OciImageConfig out;
  // The informational fields docker and friends write (history, created, author, container_config,
  // ...) are not used and not checked beyond the document size and depth limits.
  if (auto it = j.find("os"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return invalid("image config.os: expected a string");
    if (it->get<std::string>() != "linux") {
      return invalid("image config.os: \"" + it->get<std::string>() + "\" images cannot run here");
    }
  }
  if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return invalid("image config.config: expected an object");
    const Json& c = *it;
    auto str_list = [&](const char* key, size_t max_items, std::vector<std::string>& dst) -> Status {
      auto f = c.find(key);
      if (f == c.end() || f->is_null()) return ok_status();
      if (!f->is_array()) return invalid(std::string("image config.config.") + key + ": expected an array of strings");
      if (f->size() > max_items) {
        return invalid(std::string("image config.config.") + key + ": more than " + std::to_string(max_items) +
                       " items");
      }
      for (const auto& e : *f) {
        if (!e.is_string() || e.get_ref<const std::string&>().size() > kMaxArgLen) {
          return invalid(std::string("image config.config.") + key + ": expected strings of at most 64 KiB");
        }
        if (e.get_ref<const std::string&>().find('\0') != std::string::npos) {
          return invalid(std::string("image config.config.") + key + ": NUL byte in string");
        }
        dst.push_back(e.get<std::string>());
      }
      return ok_status();
    };
    XOP_RETURN_IF_ERROR(str_list("Entrypoint", kMaxArgs, out.entrypoint));
    XOP_RETURN_IF_ERROR(str_list("Cmd", kMaxArgs, out.cmd));
    XOP_RETURN_IF_ERROR(str_list("Env", kMaxEnv, out.env));
    for (const auto& e : out.env) {
      const auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0) return invalid("image config.config.Env: \"" + e + "\" is not KEY=value");
    }
    if (auto f = c.find("WorkingDir"); f != c.end() && !f->is_null()) {
      if (!f->is_string() || f->get_ref<const std::string&>().size() > 4096) {
        return invalid("image config.config.WorkingDir: expected a string of at most 4096 characters");
      }
      const auto& wd = f->get_ref<const std::string&>();
      if (!wd.empty()) {
        if (wd[0] != '/' || wd.find('\0') != std::string::npos) {
          return invalid("image config.config.WorkingDir: must be an absolute path");
        }
        out.working_dir = wd;
      }
    }
    if (auto f = c.find("User"); f != c.end() && !f->is_null()) {
      if (!f->is_string()) return invalid("image config.config.User: expected a string");
      XOP_RETURN_IF_ERROR(validate_image_user(f->get_ref<const std::string&>()));
      out.user = f->get<std::string>();
    }
  }
  if (auto it = j.find("rootfs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return invalid("image config.rootfs: expected an object");
    out.has_rootfs = true;
    auto t = it->find("type");
    if (t == it->end() || !t->is_string() || t->get<std::string>() != "layers") {
      return invalid("image config.rootfs.type: expected \"layers\"");
    }
    auto ids = it->find("diff_ids");
    if (ids == it->end() || !ids->is_array()) return invalid("image config.rootfs.diff_ids: expected an array");
    if (ids->size() > kMaxOciLayers) return invalid("image config.rootfs.diff_ids: too many layers");
    for (const auto& d : *ids) {
      if (!d.is_string() || !is_oci_digest(d.get_ref<const std::string&>())) {
        return invalid("image config.rootfs.diff_ids: expected sha256:<64 lowercase hex> digests");
      }
      out.diff_ids.push_back(d.get<std::string>());
    }
  }
  return out;
}

Result<std::vector<OciDescriptor>> parse_oci_index(std::string_view text) {
  XOP_ASSIGN_OR_RETURN(Json j, parse_document(text, "index"));
  JsonReader r(j, "index");
  checked_not_used(r.i64("schemaVersion", 2, 2));
  const auto media_type = r.opt_str("mediaType", kMaxMediaTypeLen);
  const Json& manifests = r.array("manifests", kMaxOciIndexManifests);
  check_annotations(r);
  checked_not_used(r.opt_str("artifactType", kMaxMediaTypeLen));
  checked_not_used(r.opt_object("subject"));
  XOP_RETURN_IF_ERROR(r.finish());
  if (media_type && *media_type != kOciIndexMediaType) {
    return make_error(ErrorCode::kUnsupportedMedia, "index.mediaType: unsupported \"" + *media_type + "\"");
  }
  std::vector<OciDescriptor> out;
  for (size_t i = 0; i < manifests.size(); ++i) {
    XOP_ASSIGN_OR_RETURN(OciDescriptor d,
                         parse_descriptor(manifests[i], "index.manifests[" + std::to_string(i) + "]", true));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace xop
