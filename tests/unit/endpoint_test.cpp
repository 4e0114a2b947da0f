// Endpoint: target URL parsing, the /v1 rule, Host header and display form.
#include "worker/endpoint.h"

#include <gtest/gtest.h>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

TEST(Endpoint, DefaultsAndExplicitPorts) {
  auto a = Endpoint::parse("http://example.test");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "example.test");
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(a->prefix, "");
  auto b = Endpoint::parse("https://api.example.test:8443/proxy/");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 8443);
  EXPECT_EQ(b->prefix, "/proxy");
  EXPECT_EQ(Endpoint::parse("https://x")->port, 443);
}

TEST(Endpoint, V1PrefixIsNotRepeated) {
  auto e = Endpoint::parse("http://127.0.0.1:8000/v1").value();
  EXPECT_EQ(e.path_for("/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(e.path_for("/v1/models"), "/v1/models");
  EXPECT_EQ(e.path_for("/api/chat"), "/v1/api/chat");
  EXPECT_EQ(e.base_prefix(), "");
  auto p = Endpoint::parse("http://h/openai/v1/").value();
  EXPECT_EQ(p.path_for("/v1/messages"), "/openai/v1/messages");
  EXPECT_EQ(p.base_prefix(), "/openai");
  auto q = Endpoint::parse("http://h/proxy").value();
  EXPECT_EQ(q.path_for("/v1/completions"), "/proxy/v1/completions");
  auto r = Endpoint::parse("http://h").value();
  EXPECT_EQ(r.path_for("/api/generate"), "/api/generate");
  auto s = Endpoint::parse("http://h/v10").value();
  EXPECT_EQ(s.path_for("/v1/models"), "/v10/v1/models");
}

TEST(Endpoint, Ipv6Literal) {
  auto e = Endpoint::parse("http://[::1]:9000/v1");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 9000);
  EXPECT_TRUE(e->host_is_ip());
  EXPECT_EQ(e->host_header(), "[::1]:9000");
  EXPECT_EQ(e->display(), "http://[::1]:9000/v1");
}

TEST(Endpoint, HostHeaderOmitsTheDefaultPort) {
  EXPECT_EQ(Endpoint::parse("https://a.test")->host_header(), "a.test");
  EXPECT_EQ(Endpoint::parse("http://a.test:8080")->host_header(), "a.test:8080");
  EXPECT_FALSE(Endpoint::parse("http://a.test")->host_is_ip());
  EXPECT_TRUE(Endpoint::parse("http://10.0.0.1")->host_is_ip());
}

TEST(Endpoint, BadUrlsAreRefusedWithoutEchoingCredentials) {
  for (const char* bad :
       {"ftp://h", "h:80", "http://", "http://:80", "http://h:0", "http://h:70000", "http://h:x",
        "http://h:", "http://[::1", "http://h/a?b=c", "http://h#frag", "http://ho st"}) {
    auto e = Endpoint::parse(bad);
    EXPECT_FALSE(e.ok()) << bad;
    if (!e.ok()) {
      EXPECT_NE(e.error().find("target URL"), std::string::npos);
    }
  }
  auto c = Endpoint::parse("https://user:hunter2@h/v1");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().find("hunter2"), std::string::npos);
  EXPECT_NE(c.error().find("credentials"), std::string::npos);
  EXPECT_EQ(Endpoint::redact("https://user:hunter2@h/v1"), "https://***@h/v1");
}

}  // namespace
}  // namespace llmload
