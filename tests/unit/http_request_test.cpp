// HttpRequest: the bytes built once, header validation, secrets never in errors.
#include "worker/http_request.h"

#include <gtest/gtest.h>

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

TEST(HttpRequest, PostWithBodyAndCustomHeaders) {
  auto ep = Endpoint::parse("http://127.0.0.1:8000/v1").value();
  auto r = HttpRequest::build("POST", ep, ep.path_for("/v1/chat/completions"),
                              {{"Authorization", "Bearer k"}, {"X-Trace", "1"}}, "{\"a\":1}");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->bytes(),
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
            "User-Agent: llmload/" LLMLOAD_VERSION
            "\r\nAuthorization: Bearer k\r\nX-Trace: 1\r\n"
            "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_EQ(r->head_size(), r->bytes().size() - 7);
  EXPECT_EQ(r->buf().len, r->bytes().size());
}

TEST(HttpRequest, GetHasNoBodyHeaders) {
  auto ep = Endpoint::parse("https://h.test").value();
  auto r = HttpRequest::build("GET", ep, "/v1/models", {{"User-Agent", "mine"}}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes(), "GET /v1/models HTTP/1.1\r\nHost: h.test\r\nUser-Agent: mine\r\n\r\n");
}

TEST(HttpRequest, InvalidHeadersAreRefusedNamingTheHeaderNotTheValue) {
  auto ep = Endpoint::parse("http://h").value();
  auto crlf = HttpRequest::build("POST", ep, "/x", {{"X-Key", "sec\r\nret"}}, "{}");
  ASSERT_FALSE(crlf.ok());
  EXPECT_NE(crlf.error().find("X-Key"), std::string::npos);
  EXPECT_EQ(crlf.error().find("sec"), std::string::npos);
  EXPECT_FALSE(HttpRequest::build("POST", ep, "/x", {{"Bad Name", "v"}}, "").ok());
  EXPECT_FALSE(HttpRequest::build("POST", ep, "/x", {{"content-length", "5"}}, "").ok());
  EXPECT_FALSE(HttpRequest::build("POST", ep, "/x", {{"Host", "other"}}, "").ok());
  EXPECT_FALSE(HttpRequest::build("POST", ep, "x", {}, "").ok());
  EXPECT_FALSE(HttpRequest::build("PO ST", ep, "/x", {}, "").ok());
}

}  // namespace
}  // namespace llmload
