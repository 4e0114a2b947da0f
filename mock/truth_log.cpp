#include "mock/truth_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>

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

std::string TruthLog::to_json(const TruthRecord& r) {
  OutBuffer o(512);
  o.append("{\"id\":");
  append_json_string(o, r.id);
  o.append(",\"loop\":");
  o.append_i64(r.loop);
  o.append(",\"path\":");
  append_json_string(o, r.path);
  o.append(",\"api\":\"");
  o.append(r.api);
  o.append("\",\"status\":");
  o.append_i64(r.status);
  o.append(r.stream ? ",\"stream\":true" : ",\"stream\":false");
  o.append(r.queued ? ",\"queued\":true" : ",\"queued\":false");
  o.append(",\"received_ns\":");
  o.append_i64(r.received_ns);
  o.append(",\"started_ns\":");
  o.append_i64(r.started_ns);
  o.append(",\"headers_ns\":");
  o.append_i64(r.headers_ns);
  o.append(",\"first_content_ns\":");
  o.append_i64(r.first_content_ns);
  o.append(",\"last_byte_ns\":");
  o.append_i64(r.last_byte_ns);
  o.append(",\"tokens\":");
  o.append_i64(r.tokens);
  o.append(",\"reasoning_tokens\":");
  o.append_i64(r.reasoning_tokens);
  o.append(",\"prompt_tokens\":");
  o.append_i64(r.prompt_tokens);
  o.append(",\"fault\":\"");
  o.append(r.fault);
  o.append("\",\"outcome\":\"");
  o.append(r.outcome);
  o.append("\",\"late_max_us\":");
  o.append_fixed(double(r.late_max_ns) / 1000.0, 1);
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
