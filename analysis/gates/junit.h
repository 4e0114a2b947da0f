// JUnit XML for CI systems: one test case per assertion (or per compare --fail-on rule), the
// measured value in the message.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace llmload::analysis {

struct JunitCase {
  std::string name;  // the expression as written
  bool passed = false;
  std::string message;  // "measured 812.3 ms, required < 2000 ms"
};

// Suite-level <property name value/> pairs (a run's group ratings), in order.
using JunitProperties = std::vector<std::pair<std::string, std::string>>;

// A complete document: <testsuites><testsuite name=suite>…</testsuite></testsuites>.
std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases,
                      double time_s = 0, const JunitProperties& properties = {});
Expected<std::string> write_junit(const std::string& path, const std::string& suite,
                                  const std::vector<JunitCase>& cases, double time_s = 0,
                                  const JunitProperties& properties = {});

// Escapes &, <, >, " and ' and drops characters XML 1.0 cannot hold.
std::string xml_escape(const std::string& text);

}  // namespace llmload::analysis
