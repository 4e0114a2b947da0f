#include "common/api.h"

#include <array>

namespace llmload {

namespace {

constexpr size_t kApiCount = std::size(kApiDescriptors);

constexpr bool rows_in_enum_order() {
  for (size_t i = 0; i < kApiCount; ++i)
    if (static_cast<size_t>(kApiDescriptors[i].api) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "kApiDescriptors: one row per Api, in enum order");

constexpr std::array<std::string_view, kApiCount> kNames = [] {
  std::array<std::string_view, kApiCount> names{};
  for (size_t i = 0; i < kApiCount; ++i) names[i] = kApiDescriptors[i].name;
  return names;
}();

}  // namespace

const char* to_string(Framing f) {
  switch (f) {
    case Framing::sse:
      return "sse";
    case Framing::ndjson:
      return "ndjson";
    case Framing::json_body:
      return "json_body";
  }
  return "?";
}

std::span<const ApiDescriptor> api_descriptors() {
  return kApiDescriptors;
}

const ApiDescriptor& api_descriptor(Api api) {
  return kApiDescriptors[static_cast<size_t>(api)];
}

const ApiDescriptor* find_api(std::string_view name) {
  for (const ApiDescriptor& d : kApiDescriptors)
    if (d.name == name) return &d;
  return nullptr;
}

std::string_view api_name(Api api) {
  return api_descriptor(api).name;
}

std::optional<Api> parse_api(std::string_view name) {
  const ApiDescriptor* d = find_api(name);
  return d != nullptr ? std::optional<Api>(d->api) : std::nullopt;
}

bool api_is_chat(Api api) {
  return api_descriptor(api).chat;
}

std::span<const std::string_view> api_names() {
  return kNames;
}

std::string api_name_list(std::string_view separator) {
  std::string out;
  for (std::string_view n : kNames) {
    if (!out.empty()) out += separator;
    out += n;
  }
  return out;
}

}  // namespace llmload
