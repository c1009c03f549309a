// The server's image store contract (server/image_store.h) for what its index (index.db) records:
// blobs, their owners, quotas. A blob stored with success is there, with its owner, after a
// reopen; a refused put changes nothing; under every injected fault in the index a put is all or
// nothing, in the process and after reopening from disk. Over every backend.
#include <gtest/gtest.h>

#include <functional>

#include "contract/store_contract.h"
#include "crypto/digest.h"
#include "server/image_store.h"
#include "support/fault_vfs.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::TempDir;

struct ImageStoreBackend {
  std::string name;
  std::function<Result<std::unique_ptr<ImageStore>>(const std::string& dir)> open;
  bool injects_faults;  // through FaultVfs
};

ImageStoreOptions small_quotas() {
  ImageStoreOptions o;
  o.quota_bytes_per_user = 1 << 20;
  o.quota_blobs_per_user = 3;
  return o;
}

const std::vector<ImageStoreBackend>& backends() {
  static const std::vector<ImageStoreBackend> all = {
      {"sqlite", [](const std::string& dir) { return ImageStore::open(dir + "/images", small_quotas()); }, true},
  };
  return all;
}

const std::string kAlice = "a" + std::string(39, '0') + "1";
const std::string kBob = "a" + std::string(39, '0') + "2";

std::string blob(int n) { return "blob number " + std::to_string(n) + std::string(static_cast<size_t>(n) * 100, 'x'); }
std::string digest(int n) { return oci_digest(blob(n)); }

// Everything the store answers about blobs 1..5 and both accounts, canonically.
Result<std::string> describe(const ImageStore& s) {
  std::string out;
  for (int n = 1; n <= 5; ++n) {
    const std::string d = digest(n);
    out += "blob" + std::to_string(n) + (s.has_blob(d) ? " present" : " absent");
    if (s.has_blob(d)) {
      XOP_ASSIGN_OR_RETURN(auto data, s.read_blob(d));
      if (data != blob(n)) return make_error(ErrorCode::kInternal, "blob " + std::to_string(n) + " has other bytes");
    }
    out += std::string(s.is_owner(kAlice, d) ? " alice" : "") + (s.is_owner(kBob, d) ? " bob" : "") + "\n";
  }
  for (const auto& [who, account] : {std::pair{"alice", kAlice}, std::pair{"bob", kBob}}) {
    const auto u = s.usage_of(account);
    out += std::string(who) + ": " + std::to_string(u.blobs) + " blobs " + std::to_string(u.blob_bytes) + " bytes\n";
  }
  const auto all = s.usage();
  out += "store: " + std::to_string(all.blobs) + " blobs " + std::to_string(all.blob_bytes) + " bytes\n";
  return out;
}

class ImageStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    for (const auto& b : backends()) {
      if (b.name == GetParam()) backend_ = &b;
    }
    ASSERT_NE(backend_, nullptr);
  }
  std::unique_ptr<ImageStore> open() {
    auto s = backend_->open(t_.path());
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  const ImageStoreBackend* backend_ = nullptr;
  TempDir t_;
};

TEST_P(ImageStoreContractTest, WhatReturnedSuccessIsThereAfterReopen) {
  std::string want;
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_blob(kAlice, digest(1), blob(1)));
    ASSERT_TRUE(s->put_blob(kBob, digest(1), blob(1)));  // a second owner of the same bytes
    ASSERT_TRUE(s->put_blob(kBob, digest(2), blob(2)));
    ASSERT_TRUE(s->put_blob("", digest(3), blob(3)));  // the server's own copy
    want = describe(*s).value();
  }
  EXPECT_NE(want.find("blob1 present alice bob"), std::string::npos) << want;
  EXPECT_NE(want.find("bob: 2 blobs"), std::string::npos) << want;
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s).value(), want);
}

TEST_P(ImageStoreContractTest, RefusedPutsChangeNothing) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_blob(kAlice, digest(1), blob(1)));
  ASSERT_TRUE(s->put_blob(kAlice, digest(2), blob(2)));
  ASSERT_TRUE(s->put_blob(kAlice, digest(3), blob(3)));
  const std::string before = describe(*s).value();
  EXPECT_EQ(s->put_blob(kAlice, digest(4), blob(5)).error().code, ErrorCode::kInvalidArgument);  // wrong bytes
  EXPECT_FALSE(s->put_blob(kAlice, digest(4), blob(4)));  // a fourth blob: over the blob-count quota
  EXPECT_FALSE(s->put_blob(kBob, "sha256:not-a-digest", blob(4)));
  EXPECT_EQ(describe(*s).value(), before);
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s).value(), before);
}

TEST_P(ImageStoreContractTest, EveryPutIsAllOrNothingUnderEveryFault) {
  if (!backend_->injects_faults) GTEST_SKIP() << backend_->name << " has no fault injector";
  FaultVfs vfs(t_.path());
  const testing::StoreSteps<ImageStore> steps = {
      backend_->open,
      [](ImageStore& s) -> Status {
        XOP_RETURN_IF_ERROR(s.put_blob(kAlice, digest(1), blob(1)));
        return s.put_blob(kBob, digest(2), blob(2));
      },
      [](ImageStore& s) { return describe(s); },
  };
  const testing::NamedWrites<ImageStore> writes = {
      {"new blob", [](ImageStore& s) { return s.put_blob(kAlice, digest(3), blob(3)); }},
      {"new owner of a stored blob", [](ImageStore& s) { return s.put_blob(kAlice, digest(2), blob(2)); }},
      {"server's own copy", [](ImageStore& s) { return s.put_blob("", digest(4), blob(4)); }},
  };
  testing::run_writes_under_faults(steps, writes, vfs, t_.path(), "image store", 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, ImageStoreContractTest, ::testing::Values("sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace xop
