// ${VAR} expansion and redaction: secrets come from the environment, never show in JSON,
// and a missing variable is a warning in validate and an error in run.
#include <gtest/gtest.h>

#include <map>

#include "common/env_expand.h"
#include "common/scenario.h"

namespace llmload {
namespace {

EnvLookup fake(std::map<std::string, std::string> vars) {
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(EnvExpand, ReplacesReferencesAndListsThem) {
  auto e = expand_env("Bearer ${KEY}-${OTHER}", fake({{"KEY", "k1"}}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "Bearer k1-");
  EXPECT_EQ(e->used, (std::vector<std::string>{"KEY", "OTHER"}));
  EXPECT_EQ(e->missing, std::vector<std::string>{"OTHER"});
}

TEST(EnvExpand, DollarEscapesAndPlainDollars) {
  auto e = expand_env("$$ {x} $5 a$ $${KEY}", fake({{"KEY", "k"}}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "$ {x} $5 a$ ${KEY}");
  EXPECT_TRUE(e->used.empty());
  EXPECT_FALSE(has_env_reference("$${KEY}"));
  EXPECT_TRUE(has_env_reference("a ${KEY}"));
}

TEST(EnvExpand, BadReferencesAreErrorsWithoutValues) {
  auto a = expand_env("x ${KEY", fake({}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), "unterminated '${' at offset 2 (write ${NAME})");
  auto b = expand_env("${9X}", fake({}));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(),
            "invalid variable name '${9X}' (letters, digits and '_', not starting with a digit)");
  EXPECT_FALSE(expand_env("${}", fake({})).ok());
  EXPECT_FALSE(expand_env("${A-B}", fake({})).ok());
}

TEST(EnvExpand, RedactReplacesEveryOccurrence) {
  EXPECT_EQ(redact("key sk-1 and sk-1 again, sk-2", {"sk-1", "sk-2", ""}),
            "key *** and *** again, ***");
  EXPECT_EQ(redact("nothing here", {"secret"}), "nothing here");
}

constexpr const char* kScenario = R"(
target:
  url: mock
  model: m
  headers:
    Authorization: Bearer ${LLMLOAD_SECRET_TEST}
    X-Plain: visible
load: {requests: 1}
)";

TEST(ResolveSecrets, ResolvesMarksAndRedacts) {
  setenv("LLMLOAD_SECRET_TEST", "sk-live-42", 1);
  auto s = parse_scenario(kScenario, "s.yaml", "/tmp");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_TRUE(resolve_secrets(*s, true).empty());
  const Header& h = s->targets[0].headers[0];
  EXPECT_EQ(h.value, "Bearer sk-live-42");
  EXPECT_TRUE(h.secret);
  const std::string j = redacted_json(*s).dump();
  EXPECT_EQ(j.find("sk-live-42"), std::string::npos);
  EXPECT_NE(j.find("\"Authorization\":\"***\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"X-Plain\":\"visible\""), std::string::npos) << j;
  unsetenv("LLMLOAD_SECRET_TEST");
}

TEST(ResolveSecrets, MissingIsAWarningInValidateAndAnErrorInRun) {
  unsetenv("LLMLOAD_SECRET_TEST");
  auto s = parse_scenario(kScenario, "s.yaml", "/tmp");
  ASSERT_TRUE(s.ok());
  Scenario lenient = *s;
  const size_t warnings_before = lenient.warnings.size();
  EXPECT_TRUE(resolve_secrets(lenient, false).empty());
  ASSERT_EQ(lenient.warnings.size(), warnings_before + 1);
  EXPECT_EQ(
      lenient.warnings.back(),
      "target mock: header Authorization: environment variable LLMLOAD_SECRET_TEST is not set");
  Scenario strict = *s;
  auto errors = resolve_secrets(strict, true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors[0],
      "target mock: header Authorization: environment variable LLMLOAD_SECRET_TEST is not set");
}

}  // namespace
}  // namespace llmload
