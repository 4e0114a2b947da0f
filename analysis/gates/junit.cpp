#include "analysis/gates/junit.h"

#include <cstdio>

#include "common/atomic_file.h"

namespace llmload::analysis {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows tab, LF, CR and nothing else below 0x20.
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') continue;
        out += char(ch);
    }
  }
  return out;
}

std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases,
                      double time_s, const JunitProperties& properties) {
  size_t failures = 0;
  for (const JunitCase& c : cases) failures += c.passed ? 0 : 1;
  char head[256];
  std::snprintf(head, sizeof head, "tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\"",
                cases.size(), failures, time_s);
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<testsuites name=\"llmload\" " + std::string(head) + ">\n";
  s += "  <testsuite name=\"" + xml_escape(suite) + "\" " + head + ">\n";
  if (!properties.empty()) {
    s += "    <properties>\n";
    for (const auto& [name, value] : properties)
      s += "      <property name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) +
           "\"/>\n";
    s += "    </properties>\n";
  }
  for (const JunitCase& c : cases) {
    s += "    <testcase classname=\"" + xml_escape(suite) + "\" name=\"" + xml_escape(c.name) +
         "\" time=\"0\">\n";
    if (c.passed) {
      s += "      <system-out>" + xml_escape(c.message) + "</system-out>\n";
    } else {
      s += "      <failure message=\"" + xml_escape(c.message) + "\" type=\"assertion\">" +
           xml_escape(c.name + ": " + c.message) + "</failure>\n";
    }
    s += "    </testcase>\n";
  }
  s += "  </testsuite>\n</testsuites>\n";
  return s;
}

Expected<std::string> write_junit(const std::string& path, const std::string& suite,
                                  const std::vector<JunitCase>& cases, double time_s,
                                  const JunitProperties& properties) {
  return write_file_atomic(path, junit_xml(suite, cases, time_s, properties));
}

}  // namespace llmload::analysis
