#include "cli/client_context.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli/output.h"
#include "core/file_lock.h"

namespace xop {

namespace {
// A profile `xop dev` wrote holds a dev.lock that the running `xop dev` keeps locked. Free means the
// platform the profile names ended with it: an unreachable daemon then gets that said, not only
// "Connection refused".
void hint_if_dev_platform_ended(const UserHome& home, const std::string& profile) {
  const std::string lock = home.dir() + "/dev.lock";
  std::error_code ec;
  if (!std::filesystem::exists(lock, ec)) return;
  auto held = FileLock::try_acquire(lock, FileLock::Mode::kShared);
  if (!held || !held->has_value()) return;  // xop dev still runs (or the lock cannot be read)
  // The owner's profile of `xop --profile P dev` is P-owner; the default one's, dev-owner.
  std::string started_as = profile;
  if (started_as.size() > 6 && started_as.compare(started_as.size() - 6, 6, "-owner") == 0) {
    started_as.resize(started_as.size() - 6);
  }
  const std::string again = started_as == "dev" ? "xop dev" : "xop --profile " + started_as + " dev";
  set_unavailable_hint("profile " + profile + " names the platform of an `xop dev` that has ended" +
                       " (it lives only while `xop dev` runs): start `" + again + "` again");
}
}  // namespace

Result<ClientContext> load_client_context(const CliState& st) {
  ClientContext c;
  c.home = UserHome(st.dirs);
  if (env_or_empty("XOP_CORP_URL").empty()) hint_if_dev_platform_ended(c.home, st.dirs.profile);
  XOP_ASSIGN_OR_RETURN(c.key, c.home.load_key());
  auto cfg = c.home.load_config();
  // Without a config.toml, XOP_CORP_URL (and XOP_XIS_URL) suffice.
  if (!cfg && !(cfg.error().code == ErrorCode::kNotFound && env_or_empty("XOP_CORP_URL").size() > 0)) {
    return tl::make_unexpected(cfg.error());
  }
  c.config = with_env_overrides(cfg ? *cfg : UserConfig{});
  XOP_ASSIGN_OR_RETURN(auto corp, CorpClient::connect(c.config.corp_url, c.key));
  c.corp = std::make_unique<CorpClient>(std::move(corp));
  if (!c.config.xis_url.empty()) {
    XOP_ASSIGN_OR_RETURN(auto xis, XisClient::connect(c.config.xis_url, c.key));
    c.xis = std::make_unique<XisClient>(std::move(xis));
  }
  return c;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

UserConfig with_env_overrides(UserConfig c) {
  if (auto v = env_or_empty("XOP_CORP_URL"); !v.empty()) c.corp_url = v;
  if (auto v = env_or_empty("XOP_XIS_URL"); !v.empty()) c.xis_url = v;
  return c;
}

Result<std::pair<double, double>> parse_lat_lon(const std::string& s) {
  const auto comma = s.find(',');
  if (comma == std::string::npos) return invalid("expected LAT,LON in degrees, e.g. 48.8566,2.3522");
  try {
    size_t n1 = 0;
    size_t n2 = 0;
    const double lat = std::stod(s.substr(0, comma), &n1);
    const double lon = std::stod(s.substr(comma + 1), &n2);
    if (n1 != comma || n2 != s.size() - comma - 1 || !std::isfinite(lat) || !std::isfinite(lon) || lat < -90 ||
        lat > 90 || lon < -180 || lon > 180) {
      return invalid("latitude must be in [-90, 90] and longitude in [-180, 180]");
    }
    return std::make_pair(lat, lon);
  } catch (...) {
    return invalid("expected LAT,LON in degrees, e.g. 48.8566,2.3522");
  }
}

}  // namespace xop
