// The platform's one time type. All platform timestamps are integer milliseconds since the Unix
// epoch (UTC). This header holds no clock: pure cores take `now` as an argument; reading the time
// goes through the Clock seam (core/clock.h).
#pragma once

#include <cstdint>

namespace xop {

using TimeMs = int64_t;

}  // namespace xop
