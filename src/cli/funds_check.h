// The check `xop deploy` makes before buying anything: the holds it will ask for (count x budget)
// against the balance, in credits.
#pragma once

#include <cstdint>
#include <string>

#include "core/money.h"

namespace xop {

// Empty when `count` purchase orders of `budget` each fit in `balance`; otherwise one plain
// sentence with the amounts in credits and what to do ("deploying 3 sessions holds 3 x 0.50 =
// 1.50 credits, but your balance is 1.00 credits: ..."). Overflow counts as not fitting.
std::string funds_shortfall(int64_t count, Money budget, Money balance);

}  // namespace xop
