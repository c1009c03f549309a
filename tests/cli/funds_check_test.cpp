#include "cli/funds_check.h"

#include <gtest/gtest.h>

#include <limits>

namespace xop {
namespace {

TEST(FundsCheck, FitsOrSaysSoInCredits) {
  EXPECT_EQ(funds_shortfall(3, Money::micros(500'000), Money::micros(1'500'000)), "");
  EXPECT_EQ(funds_shortfall(1, Money::micros(1), Money::micros(1)), "");
  const std::string s = funds_shortfall(3, Money::micros(500'000), Money::micros(1'000'000));
  EXPECT_EQ(s,
            "deploying 3 sessions holds 3 x 0.50 = 1.50 credits, but your balance is 1.00 credits: add credits "
            "(`xop account fund`), or lower count or budget");
  EXPECT_NE(funds_shortfall(1, Money::micros(2'000'000), Money::micros(0)).find("1 session holds"), std::string::npos);
  // count x budget overflowing int64 never fits.
  const std::string o = funds_shortfall(1000, Money::micros(std::numeric_limits<int64_t>::max() / 10),
                                        Money::micros(std::numeric_limits<int64_t>::max()));
  EXPECT_NE(o.find("more credits than exist"), std::string::npos) << o;
}

}  // namespace
}  // namespace xop
