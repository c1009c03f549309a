#include "corp/corp_service.h"

#include <utility>

namespace xop {
namespace {

class CorpServiceImpl final : public CorpService {
 public:
  CorpServiceImpl(std::unique_ptr<ClearingHouse> house, const Clock& clock)
      : house_(std::move(house)), clock_(clock), api_(*house_, clock) {}

  [[nodiscard]] std::shared_ptr<const Router> router() const override { return api_.router(); }
  [[nodiscard]] const PublicKey& public_key() const override { return house_->public_key(); }
  Result<LedgerCheck> check_ledger() override { return house_->check_ledger(clock_.now_ms()); }
  ClearingHouse& clearing_house() override { return *house_; }

 private:
  std::unique_ptr<ClearingHouse> house_;
  const Clock& clock_;
  CorpApi api_;
};

}  // namespace

Result<std::unique_ptr<CorpService>> CorpService::open(CorpOptions opts, KeyPair corp_key, const Clock& clock) {
  XOP_ASSIGN_OR_RETURN(auto house, ClearingHouse::open(std::move(opts), std::move(corp_key)));
  return std::unique_ptr<CorpService>(std::make_unique<CorpServiceImpl>(std::move(house), clock));
}

}  // namespace xop
