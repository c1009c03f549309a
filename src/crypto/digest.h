// SHA-256 (OpenSSL). OCI content digests are "sha256:<64 hex>".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

// Raw 32-byte digest.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
// "sha256:<hex>"
std::string oci_digest(std::string_view data);
// True for a syntactically valid "sha256:<64 lowercase hex>".
bool is_oci_digest(std::string_view d);

// Incremental hashing for streams and files.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view data);
  std::string hex_final();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Digest of a file's contents as "sha256:<hex>".
Result<std::string> oci_digest_of_file(const std::string& path);

}  // namespace xop
