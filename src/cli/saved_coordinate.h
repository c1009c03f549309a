// The user's own network coordinate as `xop locate --save` keeps it: <state dir>/coordinate.json
// of the profile (deploy/home_dirs.h), so that searches can ask for servers "within X ms of me"
// (SearchQuery::rtt_from_coord). Format (docs/formats.md, "Saved coordinate"):
//   {"coord": {vec_us, height_us, error_ppm} (an AdvertCoord), "measured_at": ms since the epoch,
//    "samples": probes it was fitted from, "servers": servers that answered}
// Read strictly (unknown keys, wrong types, an out-of-range coordinate: refused), capped at 4 KiB.
#pragma once

#include <optional>
#include <string>

#include "core/time.h"
#include "deploy/home_dirs.h"
#include "proto/advert.h"

namespace xop {

struct SavedCoordinate {
  AdvertCoord coord;
  TimeMs measured_at = 0;
  int64_t samples = 0;
  int64_t servers = 0;
};

std::string saved_coordinate_path(const HomeDirs& dirs);
Json to_json(const SavedCoordinate& s);
Result<SavedCoordinate> saved_coordinate_from_json(const Json& j);
Status save_coordinate(const HomeDirs& dirs, const SavedCoordinate& s);
// None when the profile has no saved coordinate; an error when the file is there but bad.
Result<std::optional<SavedCoordinate>> load_saved_coordinate(const HomeDirs& dirs);

}  // namespace xop
