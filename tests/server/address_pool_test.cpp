// The pure address and port pools of the session network, and the strict parsers of their config.
#include "server/address_pool.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

TEST(AddressPoolTest, ParsesAddressesAndCidrsStrictly) {
  EXPECT_EQ(*parse_ipv4("10.88.0.7"), 0x0a580007u);
  EXPECT_EQ(ipv4_to_string(0x0a580007u), "10.88.0.7");
  EXPECT_EQ(ipv4_to_string(*parse_ipv4("255.255.255.255")), "255.255.255.255");
  for (const char* bad : {"", "10.88.0", "10.88.0.7.1", "10.88.0.256", "10.088.0.1", "10.88.0.-1", "10.88..1",
                          "a.b.c.d", "10.88.0.1 ", " 10.88.0.1", "1e1.0.0.1", "10.88.0.1/16", "99999999999.0.0.1"}) {
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  }
  auto c = parse_ipv4_cidr("10.88.0.0/16");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->prefix, 16);
  EXPECT_EQ(c->to_string(), "10.88.0.0/16");
  EXPECT_TRUE(c->contains(*parse_ipv4("10.88.255.254")));
  EXPECT_FALSE(c->contains(*parse_ipv4("10.89.0.1")));
  for (const char* bad : {"10.88.0.0", "10.88.0.1/16", "10.88.0.0/7", "10.88.0.0/31", "10.88.0.0/32", "10.88.0.0/",
                          "10.88.0.0/016", "10.88.0.0/1x", "/16", "10.88.0.0/16/1", std::string(5000, '1').c_str()}) {
    EXPECT_FALSE(parse_ipv4_cidr(bad)) << bad;
  }
}

TEST(AddressPoolTest, HandsOutTheLowestFreeAddressAndNeverTheReservedOnes) {
  AddressPool p(*parse_ipv4_cidr("10.1.2.0/29"));  // .0 network, .1 gateway, .7 broadcast: .2-.6 for sessions
  EXPECT_EQ(ipv4_to_string(p.gateway()), "10.1.2.1");
  EXPECT_EQ(p.capacity(), 5u);
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto a = p.allocate();
    ASSERT_TRUE(a) << a.error().message;
    got.push_back(ipv4_to_string(*a));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"}));
  auto full = p.allocate();
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(full.error().message.find("10.1.2.0/29"), std::string::npos);
  p.release(*parse_ipv4("10.1.2.4"));
  EXPECT_EQ(ipv4_to_string(*p.allocate()), "10.1.2.4");
  p.release(*parse_ipv4("10.1.2.9"));  // not held: no-op
  EXPECT_EQ(p.in_use(), 5u);
}

TEST(AddressPoolTest, AdoptRefusesForeignReservedAndTakenAddresses) {
  AddressPool p(*parse_ipv4_cidr("10.1.2.0/24"));
  EXPECT_TRUE(p.adopt(*parse_ipv4("10.1.2.9")));
  EXPECT_EQ(p.adopt(*parse_ipv4("10.1.2.9")).error().code, ErrorCode::kConflict);
  for (const char* bad : {"10.1.2.0", "10.1.2.1", "10.1.2.255", "10.1.3.9", "192.168.0.1"}) {
    auto s = p.adopt(*parse_ipv4(bad));
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  // Allocation steps around what was adopted.
  for (int i = 2; i <= 8; ++i) EXPECT_EQ(ipv4_to_string(*p.allocate()), "10.1.2." + std::to_string(i));
  EXPECT_EQ(ipv4_to_string(*p.allocate()), "10.1.2.10");
}

TEST(PortPoolTest, ParsesRangesStrictly) {
  auto r = parse_port_range("20000-29999");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 20000);
  EXPECT_EQ(r->last, 29999);
  auto one = parse_port_range("8080");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->first, 8080);
  EXPECT_EQ(one->last, 8080);
  for (const char* bad :
       {"", "0-10", "10-9", "1-65536", "-1", "1-", "a-b", "20000-29999-1", " 1-2", "01-2", "100000", "1--2"}) {
    EXPECT_FALSE(parse_port_range(bad)) << bad;
  }
}

TEST(PortPoolTest, HandsOutFreeUsablePortsAndRefusesWhenNoneIsLeft) {
  PortPool p(PortRange{100, 104});
  EXPECT_EQ(*p.allocate(), 100);
  // Ports the host holds (the caller's check) are skipped.
  EXPECT_EQ(*p.allocate([](uint16_t port) { return port != 101 && port != 102; }), 103);
  EXPECT_EQ(*p.allocate(), 101);
  EXPECT_TRUE(p.adopt(104));
  EXPECT_EQ(p.adopt(104).error().code, ErrorCode::kConflict);
  EXPECT_EQ(p.adopt(99).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(*p.allocate(), 102);
  auto none = p.allocate();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(none.error().message.find("100-104"), std::string::npos) << none.error().message;
  p.release(102);
  EXPECT_EQ(*p.allocate(), 102);
  EXPECT_EQ(p.in_use(), 5u);
}

TEST(PortPoolTest, TheWholeRangeUpTo65535IsUsable) {
  PortPool p(PortRange{65534, 65535});
  EXPECT_EQ(*p.allocate(), 65534);
  EXPECT_EQ(*p.allocate(), 65535);
  EXPECT_FALSE(p.allocate());
}

}  // namespace
}  // namespace xop
