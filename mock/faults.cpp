#include "mock/faults.h"

namespace llmload::mock {

namespace {
struct FaultName {
  Fault fault;
  const char* name;
};
constexpr FaultName kNames[] = {
    {Fault::kNone, "none"},
    {Fault::kReset, "reset"},
    {Fault::kStallHeaders, "stall_headers"},
    {Fault::kStallMid, "stall_mid"},
    {Fault::kHttp429, "http429"},
    {Fault::kHttp500, "http500"},
    {Fault::kHttp503, "http503"},
    {Fault::kMalformed, "malformed"},
    {Fault::kErrorEvent, "error_event"},
    {Fault::kHugeLine, "huge_line"},
    {Fault::kTruncated, "truncated"},
    {Fault::kSlowHeaders, "slow_headers"},
    {Fault::kDrip, "drip"},
    {Fault::kDropNext, "drop_next"},
};
}  // namespace

const char* fault_name(Fault f) {
  for (const auto& n : kNames)
    if (n.fault == f) return n.name;
  return "unknown";
}

Expected<Fault> parse_fault(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  for (const auto& n : kNames)
    if (name == n.name) return n.fault;
  std::string list;
  for (const auto& n : kNames) {
    if (!list.empty()) list += ", ";
    list += n.name;
  }
  return Error{"unknown fault '" + std::string(name) + "' (valid: " + list + ")"};
}

const std::vector<Fault>& all_faults() {
  static const std::vector<Fault> all = [] {
    std::vector<Fault> v;
    for (const auto& n : kNames)
      if (n.fault != Fault::kNone) v.push_back(n.fault);
    return v;
  }();
  return all;
}

Expected<bool> FaultPlan::set_kinds(std::string_view csv) {
  std::vector<Fault> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t pos = csv.find(',', start);
    std::string_view item = csv.substr(start, pos == std::string_view::npos ? pos : pos - start);
    auto f = parse_fault(item);
    if (!f) return Error{"--faults: " + f.error()};
    if (*f != Fault::kNone) out.push_back(*f);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  kinds = std::move(out);
  return true;
}

Fault FaultPlan::pick(Rng& rng) const {
  if (rate <= 0) return Fault::kNone;
  if (rate < 1 && rng.uniform() >= rate) return Fault::kNone;
  const auto& from = kinds.empty() ? all_faults() : kinds;
  if (from.empty()) return Fault::kNone;
  return from[rng.next() % from.size()];
}

}  // namespace llmload::mock
