#include "cli/funds_check.h"

#include "core/units.h"

namespace xop {

std::string funds_shortfall(int64_t count, Money budget, Money balance) {
  const auto need = budget.times(count);
  if (need && *need <= balance) return "";
  const std::string total = need ? format_credits(*need) + " credits" : "more credits than exist";
  return "deploying " + std::to_string(count) + " session" + (count == 1 ? "" : "s") + " holds " +
         std::to_string(count) + " x " + format_credits(budget) + " = " + total + ", but your balance is " +
         format_credits(balance) + " credits: add credits (`xop account fund`), or lower count or budget";
}

}  // namespace xop
