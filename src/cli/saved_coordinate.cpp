#include "cli/saved_coordinate.h"

#include <filesystem>

#include "core/file_util.h"
#include "core/json_reader.h"
#include "core/schema.h"

namespace xop {
namespace {

const Schema<SavedCoordinate>& schema() {
  static const auto s = Schema<SavedCoordinate>("coordinate")
                            .object("coord", &SavedCoordinate::coord, advert_coord_schema())
                            .i64("measured_at", &SavedCoordinate::measured_at, 0)
                            .i64("samples", &SavedCoordinate::samples, 1, 1'000'000)
                            .i64("servers", &SavedCoordinate::servers, 1, 1'000'000);
  return s;
}

}  // namespace

std::string saved_coordinate_path(const HomeDirs& dirs) { return dirs.state + "/coordinate.json"; }
Json to_json(const SavedCoordinate& s) { return schema().encode(s); }
Result<SavedCoordinate> saved_coordinate_from_json(const Json& j) {
  XOP_ASSIGN_OR_RETURN(auto s, schema().decode(j));
  XOP_RETURN_IF_ERROR(validate_coordinate(coordinate_of(s.coord)));
  return s;
}

Status save_coordinate(const HomeDirs& dirs, const SavedCoordinate& s) {
  std::error_code ec;
  std::filesystem::create_directories(dirs.state, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + dirs.state + ": " + ec.message());
  return write_file_atomic(saved_coordinate_path(dirs), to_json(s).dump(2) + "\n", 0600);
}

Result<std::optional<SavedCoordinate>> load_saved_coordinate(const HomeDirs& dirs) {
  const std::string path = saved_coordinate_path(dirs);
  if (!std::filesystem::exists(path)) return std::optional<SavedCoordinate>();
  XOP_ASSIGN_OR_RETURN(auto text, read_file_capped(path, 4096));
  auto j = parse_json(text);
  if (!j) return invalid(path + ": " + j.error().message);
  auto s = saved_coordinate_from_json(*j);
  if (!s) return invalid(path + ": " + s.error().message);
  return std::optional<SavedCoordinate>(std::move(*s));
}

}  // namespace xop
