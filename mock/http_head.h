// The status line and headers of a mock response.
#pragma once

#include <cstdint>
#include <string_view>

#include "mock/out_buffer.h"

namespace llmload::mock {

const char* status_text(int status);

// content_length < 0: Transfer-Encoding: chunked. `extra`: whole header lines ending in \r\n.
void append_head(OutBuffer& out, int status, std::string_view content_type, int64_t content_length,
                 bool keep_alive, std::string_view request_id, std::string_view extra = {});

}  // namespace llmload::mock
