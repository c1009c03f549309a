// The coordinate `xop locate --save` keeps in the profile (cli/saved_coordinate.h): round trip,
// and strict reading of a file someone else may have edited.
#include "cli/saved_coordinate.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace xop {
namespace {

SavedCoordinate sample() {
  SavedCoordinate s;
  s.coord.vec_us = {12'000, -3'000, 0, 7};
  s.coord.height_us = 1'500;
  s.coord.error_ppm = 90'000;
  s.measured_at = 1'700'000'000'000;
  s.samples = 24;
  s.servers = 8;
  return s;
}

TEST(SavedCoordinateTest, SavesAndLoadsAndIsAbsentUntilSaved) {
  testing::TempDir dir;
  const HomeDirs dirs = HomeDirs::single(dir.path());
  auto none = load_saved_coordinate(dirs);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  ASSERT_TRUE(save_coordinate(dirs, sample()));
  auto back = load_saved_coordinate(dirs);
  ASSERT_TRUE(back && *back) << (back ? "" : back.error().message);
  EXPECT_EQ((*back)->coord, sample().coord);
  EXPECT_EQ((*back)->samples, 24);
  EXPECT_EQ((*back)->servers, 8);
  EXPECT_EQ((*back)->measured_at, sample().measured_at);
}

TEST(SavedCoordinateTest, RefusesEditedFiles) {
  testing::TempDir dir;
  const HomeDirs dirs = HomeDirs::single(dir.path());
  ASSERT_TRUE(save_coordinate(dirs, sample()));
  const std::string path = saved_coordinate_path(dirs);
  Json good = to_json(sample());
  std::vector<std::string> bad;
  Json j = good;
  j["extra"] = 1;
  bad.push_back(j.dump());
  j = good;
  j["coord"]["vec_us"] = Json::array();
  bad.push_back(j.dump());
  j = good;
  j["coord"]["error_ppm"] = 0;
  bad.push_back(j.dump());
  j = good;
  j["coord"]["vec_us"][0] = 1.5;
  bad.push_back(j.dump());
  j = good;
  j["samples"] = "24";
  bad.push_back(j.dump());
  j = good;
  j.erase("servers");
  bad.push_back(j.dump());
  bad.push_back("{not json");
  bad.push_back(good.dump() + std::string(5000, ' '));  // over the 4 KiB cap
  for (const auto& text : bad) {
    testing::write_file(path, text);
    auto r = load_saved_coordinate(dirs);
    EXPECT_FALSE(r) << "accepted " << text.substr(0, 200);
  }
}

}  // namespace
}  // namespace xop
