// Pre-flight outcomes against loopback servers: reachable, refused, 401/403, 404 counts as
// reachable, model list warnings, connect-only probes, bad URLs.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/unit/http_test_support.h"
#include "worker/preflight.h"

using namespace llmload::worker;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

using namespace llmload::testing;

std::string response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers by path; records the request lines it saw.
struct Router {
  std::map<std::string, std::string> answers;  // "GET /v1/models" -> raw response
  std::vector<std::string> seen;
  std::mutex mu;
  TestServer::Handler handler() {
    return [this](int fd, int) {
      while (true) {
        std::string req = read_request(fd);
        if (req.empty()) break;
        std::string line = req.substr(0, req.find(" HTTP/1.1"));
        {
          std::lock_guard<std::mutex> g(mu);
          seen.push_back(line);
        }
        auto it = answers.find(line);
        write_all(fd, it != answers.end() ? it->second : response(404, "not found"));
      }
      ::close(fd);
    };
  }
};

PreflightTarget target(uint16_t port, const std::string& api, const std::string& model = "",
                       const std::string& prefix = "") {
  PreflightTarget t;
  t.url = "http://127.0.0.1:" + std::to_string(port) + prefix;
  t.api = *parse_api(api);
  t.model = model;
  t.headers = {{"Authorization", "Bearer sk-very-secret"}};
  return t;
}

constexpr int64_t kTimeout = 3'000'000'000;

TEST(Preflight, OpenAiModelListedIsReachableWithoutWarnings) {
  Router r;
  r.answers["GET /v1/models"] = response(200, R"({"object":"list","data":[{"id":"llama-3"}]})");
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "openai-chat", "llama-3", "/v1")}, kTimeout);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].message;
  EXPECT_TRUE(res[0].warnings.empty());
  EXPECT_EQ(res[0].status, 200);
  EXPECT_EQ(res[0].probe, "GET /v1/models");  // /v1 not repeated
}

TEST(Preflight, ModelNotListedIsAWarningNotAFailure) {
  Router r;
  r.answers["GET /v1/models"] = response(200, R"({"data":[{"id":"other"}]})");
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "openai-completions", "llama-3")}, kTimeout);
  EXPECT_TRUE(res[0].ok);
  ASSERT_EQ(res[0].warnings.size(), 1u);
  EXPECT_NE(res[0].warnings[0].find("llama-3"), std::string::npos);
}

TEST(Preflight, NotFoundFallsBackToHealthAndIsReachable) {
  Router r;
  r.answers["GET /health"] = response(200, "{\"status\":\"ok\"}");
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "openai-chat", "", "/v1")}, kTimeout);
  EXPECT_TRUE(res[0].ok) << res[0].message;
  EXPECT_EQ(res[0].probe, "GET /health");
  EXPECT_EQ(r.seen, (std::vector<std::string>{"GET /v1/models", "GET /health"}));
}

TEST(Preflight, NotFoundEverywhereStillProvesReachable) {
  Router r;
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "openai-chat")}, kTimeout);
  EXPECT_TRUE(res[0].ok) << res[0].message;
  EXPECT_EQ(res[0].status, 404);
}

TEST(Preflight, UnauthorizedFailsNamingTheTargetWithoutTheSecret) {
  for (int status : {401, 403}) {
    Router r;
    r.answers["GET /v1/models"] = response(status, "{\"error\":\"bad key\"}");
    TestServer server(r.handler());
    auto res = run_preflight({target(server.port(), "openai-chat")}, kTimeout);
    EXPECT_FALSE(res[0].ok);
    EXPECT_EQ(res[0].error, ErrorKind::kHttp4xx);
    EXPECT_NE(res[0].message.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos);
    EXPECT_NE(res[0].message.find(std::to_string(status)), std::string::npos);
    EXPECT_EQ(res[0].message.find("sk-very-secret"), std::string::npos);
  }
}

TEST(Preflight, RefusedIsAFailure) {
  const uint16_t port = refused_port();
  auto res =
      run_preflight({target(port, "openai-chat"), target(port, "anthropic-messages")}, kTimeout);
  for (const auto& r : res) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, ErrorKind::kConnectRefused);
    EXPECT_NE(
        r.message.find("pre-flight failed for target http://127.0.0.1:" + std::to_string(port)),
        std::string::npos)
        << r.message;
  }
}

TEST(Preflight, OllamaTagsAndLatestSuffix) {
  Router r;
  r.answers["GET /api/tags"] = response(200, R"({"models":[{"name":"llama3:latest"}]})");
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "ollama-chat", "llama3")}, kTimeout);
  EXPECT_TRUE(res[0].ok) << res[0].message;
  EXPECT_TRUE(res[0].warnings.empty());
  EXPECT_EQ(res[0].probe, "GET /api/tags");
}

TEST(Preflight, AnthropicIsAConnectOnly) {
  Router r;
  TestServer server(r.handler());
  auto res = run_preflight({target(server.port(), "anthropic-messages", "claude")}, kTimeout);
  EXPECT_TRUE(res[0].ok) << res[0].message;
  EXPECT_EQ(res[0].probe, "connect");
  EXPECT_TRUE(r.seen.empty());
}

TEST(Preflight, StalledServerTimesOut) {
  TestServer server([](int fd, int) {
    read_request(fd);
    read_request(fd);  // never answers
    ::close(fd);
  });
  auto res = run_preflight({target(server.port(), "openai-chat")}, 300'000'000);
  EXPECT_FALSE(res[0].ok);
  EXPECT_NE(res[0].message.find("pre-flight timeout"), std::string::npos);
}

TEST(Preflight, BadUrlIsAFailure) {
  PreflightTarget t;
  t.url = "ftp://user:pw@host";
  t.api = Api::kOpenAiChat;
  auto res = run_preflight({t}, kTimeout);
  EXPECT_FALSE(res[0].ok);
  EXPECT_EQ(res[0].message.find("pw@"), std::string::npos);
}

}  // namespace
}  // namespace llmload
