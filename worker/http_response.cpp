#include "worker/http_response.h"

#include <algorithm>
#include <cstring>

namespace llmload::worker {

// Maps llhttp's C callbacks onto HttpResponseParser's members (one place, one static table).
struct ParserCallbacks {
  static HttpResponseParser* self(llhttp_t* p) { return static_cast<HttpResponseParser*>(p->data); }
  static int status(llhttp_t* p, const char*, size_t len) {
    return self(p)->count_header_bytes(len) ? 0 : -1;
  }
  static int header_field(llhttp_t* p, const char* at, size_t len) {
    return self(p)->on_header_field(at, len);
  }
  static int header_field_complete(llhttp_t* p) {
    HttpResponseParser* s = self(p);
    using C = HttpResponseParser::Capture;
    std::string_view name(s->name_, s->name_len_ <= sizeof s->name_ ? s->name_len_ : 0);
    s->capture_ = C::kNone;
    if (name == "x-request-id" && s->request_id_.empty()) s->capture_ = C::kRequestId;
    if (name == "content-type" && s->content_type_.empty()) s->capture_ = C::kContentType;
    return 0;
  }
  static int header_value(llhttp_t* p, const char* at, size_t len) {
    return self(p)->on_header_value(at, len);
  }
  static int header_value_complete(llhttp_t* p) { return self(p)->on_header_value_complete(); }
  static int headers_complete(llhttp_t* p) { return self(p)->on_headers_complete(); }
  static int body(llhttp_t* p, const char* at, size_t len) { return self(p)->on_body(at, len); }
  static int message_complete(llhttp_t* p) { return self(p)->on_message_complete(); }

  static const llhttp_settings_t* settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t v;
      llhttp_settings_init(&v);
      v.on_status = &status;
      v.on_header_field = &header_field;
      v.on_header_field_complete = &header_field_complete;
      v.on_header_value = &header_value;
      v.on_header_value_complete = &header_value_complete;
      v.on_headers_complete = &headers_complete;
      v.on_body = &body;
      v.on_message_complete = &message_complete;
      return v;
    }();
    return &s;
  }
};

HttpResponseParser::HttpResponseParser(ResponseSink* sink) : sink_(sink) {
  reset();
}

void HttpResponseParser::reset() {
  llhttp_init(&parser_, HTTP_RESPONSE, ParserCallbacks::settings());
  parser_.data = this;
  bytes_seen_ = 0;
  header_bytes_ = 0;
  name_len_ = 0;
  capture_ = Capture::kNone;
  request_id_.clear();
  content_type_.clear();
  status_ = 0;
  head_done_ = complete_ = interim_ = keep_alive_ = stopped_ = truncated_ = false;
  error_.clear();
}

bool HttpResponseParser::count_header_bytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ <= kMaxHeaderBytes) return true;
  error_ = "response headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes";
  return false;
}

int HttpResponseParser::on_header_field(const char* at, size_t len) {
  if (!count_header_bytes(len)) return -1;
  for (size_t i = 0; i < len; ++i) {
    if (name_len_ < sizeof name_) {
      char c = at[i];
      name_[name_len_] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    }
    if (name_len_ <= sizeof name_) ++name_len_;  // sizeof+1 marks "too long to be ours"
  }
  return 0;
}

int HttpResponseParser::on_header_value(const char* at, size_t len) {
  if (!count_header_bytes(len)) return -1;
  std::string* dst = capture_ == Capture::kRequestId     ? &request_id_
                     : capture_ == Capture::kContentType ? &content_type_
                                                         : nullptr;
  if (dst != nullptr) {
    size_t room = kMaxRequestIdBytes - std::min(dst->size(), kMaxRequestIdBytes);
    dst->append(at, std::min(room, len));
  }
  return 0;
}

int HttpResponseParser::on_header_value_complete() {
  name_len_ = 0;
  capture_ = Capture::kNone;
  return 0;
}

int HttpResponseParser::on_headers_complete() {
  const int status = llhttp_get_status_code(&parser_);
  if (status < 100 || status > 999) {
    error_ = "invalid HTTP status " + std::to_string(status);
    return -1;
  }
  if (status == 101) {
    error_ = "unexpected 101 Switching Protocols";
    return -1;
  }
  if (status >= 100 && status < 200) {  // interim response: its headers are not the answer
    interim_ = true;
    request_id_.clear();
    content_type_.clear();
    return 0;
  }
  status_ = status;
  head_done_ = true;
  keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
  ResponseHead head;
  head.status = status;
  head.request_id = request_id_;
  head.content_type = content_type_;
  head.keep_alive = keep_alive_;
  if (!sink_->on_head(head)) {
    stopped_ = true;
    return -1;
  }
  return 0;
}

int HttpResponseParser::on_body(const char* at, size_t len) {
  if (!sink_->on_body(at, len)) {
    stopped_ = true;
    return -1;
  }
  return 0;
}

int HttpResponseParser::on_message_complete() {
  if (interim_) {
    interim_ = false;
    header_bytes_ = 0;
    return 0;
  }
  complete_ = true;
  keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
  return HPE_PAUSED;  // stop here: bytes after the response are not ours to parse
}

HttpParseStatus HttpResponseParser::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (complete_) return HttpParseStatus::kComplete;
  if (stopped_) return HttpParseStatus::kStopped;
  if (!error_.empty()) return HttpParseStatus::kError;
  if (len == 0) return HttpParseStatus::kNeedMore;
  bytes_seen_ += len;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    *consumed = len;
    return HttpParseStatus::kNeedMore;
  }
  const char* pos = llhttp_get_error_pos(&parser_);
  *consumed = (pos != nullptr && pos >= data && pos <= data + len) ? size_t(pos - data) : len;
  if (err == HPE_PAUSED && complete_) return HttpParseStatus::kComplete;
  if (stopped_) return HttpParseStatus::kStopped;
  if (error_.empty()) {
    error_ = "malformed HTTP response: ";
    error_ += llhttp_errno_name(err);
    const char* reason = llhttp_get_error_reason(&parser_);
    if (reason != nullptr && *reason != '\0') {
      error_ += " (";
      error_ += reason;
      error_ += ")";
    }
  }
  return HttpParseStatus::kError;
}

HttpParseStatus HttpResponseParser::finish() {
  if (complete_) return HttpParseStatus::kComplete;
  if (stopped_) return HttpParseStatus::kStopped;
  if (!error_.empty()) return HttpParseStatus::kError;
  if (bytes_seen_ == 0) return HttpParseStatus::kNeedMore;
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (complete_ && (err == HPE_OK || err == HPE_PAUSED)) return HttpParseStatus::kComplete;
  if (stopped_) return HttpParseStatus::kStopped;
  truncated_ = true;
  error_ = head_done_ ? "connection closed before the end of the response body"
                      : "connection closed inside the response headers";
  return HttpParseStatus::kError;
}

}  // namespace llmload::worker
