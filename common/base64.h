// Standard base64 (RFC 4648, alphabet A-Z a-z 0-9 + /, '=' padding), as the HdrHistogram
// log format and the `hdr` field of summary.json carry encoded histograms.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.h"

namespace llmload {

// Always padded to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Accepts padded or unpadded input. Rejects any character outside the alphabet (whitespace
// included), misplaced padding, a length that cannot be base64 (4k+1 characters) and
// non-zero trailing bits; the Error names the offset at fault.
Expected<std::string> base64_decode(std::string_view text);

}  // namespace llmload
