// A 128-bit signed integer for exact intermediate products in money and metering arithmetic.
#pragma once

namespace xop {
__extension__ using i128 = __int128;
}  // namespace xop
