#include "mock/truth_log.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/clock.h"
#include "mock/out_buffer.h"
#include "mock/stream_format.h"

namespace llmload::mock {

TruthLog::~TruthLog() {
  close();
}

Expected<bool> TruthLog::open(const std::string& path) {
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) return Error{"truth log " + path + ": " + std::strerror(errno)};
  writer_ = std::thread([this] { run(); });
  return true;
}

void TruthLog::push(TruthRecord r) {
  r.unix_offset_ns = realtime_offset_ns(mono_now_ns());
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(std::move(r));
  if (pending_.size() >= 512) cv_.notify_one();
}

void TruthLog::close() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  writer_.join();
  std::fclose(file_);
  file_ = nullptr;
}

uint64_t TruthLog::hash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string TruthLog::to_json(const TruthRecord& r) {
  OutBuffer o(512 + r.body.size() + r.text.size());
  char sep = '{';
  // Each field as ,"name":value (the first one opens the object).
  auto key = [&](std::string_view name) {
    o.push(sep);
    sep = ',';
    o.push('"');
    o.append(name);
    o.append("\":");
  };
  auto num = [&](std::string_view name, int64_t v) {
    key(name);
    o.append_i64(v);
  };
  auto str = [&](std::string_view name, std::string_view v) {
    key(name);
    append_json_string(o, v);
  };
  auto flag = [&](std::string_view name, bool v) {
    key(name);
    o.append(v ? "true" : "false");
  };
  str("id", r.id);
  num("loop", r.loop);
  str("path", r.path);
  str("api", r.api);
  num("status", r.status);
  flag("stream", r.stream);
  flag("queued", r.queued);
  num("received_ns", r.received_ns);
  num("started_ns", r.started_ns);
  num("headers_ns", r.headers_ns);
  num("first_content_ns", r.first_content_ns);
  num("last_byte_ns", r.last_byte_ns);
  num("closed_ns", r.closed_ns);
  num("unix_offset_ns", r.unix_offset_ns);
  num("tokens", r.tokens);
  num("reasoning_tokens", r.reasoning_tokens);
  num("prompt_tokens", r.prompt_tokens);
  str("fault", r.fault);
  str("outcome", r.outcome);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.body_hash));
  str("body_hash", hash);
  key("late_max_us");
  o.append_fixed(double(r.late_max_ns) / 1000.0, 1);
  str("conn", r.conn);
  if (r.with_text) {
    str("body", r.body);
    str("text", r.text);
  }
  o.push('}');
  return std::string(o.view());
}

void TruthLog::run() {
  std::vector<TruthRecord> batch;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [this] { return stopping_ || pending_.size() >= 512; });
    batch.swap(pending_);
    bool stop = stopping_;
    lock.unlock();
    for (const auto& r : batch) {
      std::string line = to_json(r);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), file_);
    }
    if (!batch.empty()) std::fflush(file_);
    batch.clear();
    lock.lock();
    if (stop && pending_.empty()) return;
  }
}

}  // namespace llmload::mock
