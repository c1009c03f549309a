// Safe unpacking of one OCI layer (a tar, uncompressed, gzip or zstd) into a directory that will
// be an overlayfs lower layer. Layers come from strangers, so:
//  - member paths are relative and clean: absolute paths and ".." components are refused;
//  - nothing is ever written through a symlink (every parent is opened with O_NOFOLLOW from the
//    layer root), symlinks whose target escapes the layer lexically are refused, hard links must
//    name a regular file already unpacked in this layer;
//  - device nodes are refused; FIFOs and sockets are skipped; setuid/setgid bits are stripped;
//    extended attributes (file capabilities included) are not restored;
//  - the uncompressed size and the entry count are capped;
//  - OCI whiteouts become overlay whiteouts (".wh.x" -> char device 0:0 "x"; ".wh..wh..opq" ->
//    trusted.overlay.opaque=y on the directory), or are dropped in the lowest layer.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "image/oci_image.h"

namespace xop {

struct LayerLimits {
  int64_t max_bytes = int64_t{4} << 30;  // uncompressed file contents
  int64_t max_entries = 1'000'000;
};

// Unpacks `blob_path` into the existing empty directory `dest`. On error `dest` holds a partial
// tree the caller discards.
Status unpack_layer(const std::string& blob_path, LayerCompression compression, const std::string& dest,
                    bool lowest_layer, const LayerLimits& limits = {});

}  // namespace xop
