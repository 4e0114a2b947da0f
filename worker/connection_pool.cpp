#include "worker/connection_pool.h"

#include <algorithm>
#include <vector>

#include "common/clock.h"

namespace llmload::worker {

ConnectionPool::ConnectionPool(uv_loop_t* loop, Endpoint endpoint,
                               std::shared_ptr<const TlsContext> tls, DnsCache& dns,
                               PoolOptions options)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      tls_(std::move(tls)),
      dns_(dns),
      options_(options) {
  if (options_.max_connects_in_flight == 0) options_.max_connects_in_flight = 1;
  config_.endpoint = &endpoint_;
  config_.tls = tls_.get();
  config_.sessions = tls_ ? &sessions_ : nullptr;
  config_.clock = options_.clock;
  config_.kernel_timestamps = options_.kernel_timestamps;
}

ConnectionPool::~ConnectionPool() {
  *alive_ = false;
}

void ConnectionPool::submit(const HttpRequest& request, HttpListener* listener) {
  listener->queued_ = true;
  queue_.push_back(Waiting{&request, listener, false});
  ensure_resolved();
  pump();
  if (listener->queued_) ++counters_.queued;
}

void ConnectionPool::submit(const HttpRequest& request, HttpListener* listener,
                            ConnectionPin* pin) {
  if (pin == nullptr) {
    submit(request, listener);
    return;
  }
  HttpConnection* c = pin->conn;
  if (c != nullptr && c->owner_parked && c->idle() && !shutting_down_) {
    c->owner_parked = false;
    --pinned_idle_;
    ++counters_.reused;
    c->send(request, listener);
    return;
  }
  if (c != nullptr) unpin(*c);  // not idle (a holder has one request at a time): let it go
  listener->queued_ = true;
  queue_.push_back(Waiting{&request, listener, false, pin});
  ensure_resolved();
  pump();
  if (listener->queued_) ++counters_.queued;
}

void ConnectionPool::send_on(HttpConnection* c, const Waiting& w) {
  if (w.pin != nullptr) {
    if (w.pin->conn != nullptr && w.pin->conn != c) unpin(*w.pin->conn);
    w.pin->conn = c;
    c->owner_pin = w.pin;
  }
  c->send(*w.request, w.listener);
}

void ConnectionPool::unpin(HttpConnection& c) {
  if (c.owner_pin == nullptr) return;
  if (c.owner_pin->conn == &c) c.owner_pin->conn = nullptr;
  c.owner_pin = nullptr;
  if (c.owner_parked) {
    c.owner_parked = false;
    --pinned_idle_;
    on_connection_idle(c);
  }
}

void ConnectionPool::release(ConnectionPin* pin) {
  if (pin == nullptr || pin->conn == nullptr) return;
  unpin(*pin->conn);
  if (pin->conn != nullptr) pin->conn = nullptr;
}

void ConnectionPool::cancel(HttpListener* listener) {
  if (listener->queued_) {
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [listener](const Waiting& w) { return w.listener == listener; });
    if (it != queue_.end()) queue_.erase(it);
    listener->queued_ = false;
    return;
  }
  if (HttpConnection* c = listener->connection_; c != nullptr) c->cancel();
}

void ConnectionPool::prewarm(size_t n) {
  prewarm_pending_ += n;
  ensure_resolved();
  pump();
}

void ConnectionPool::ensure_resolved() {
  if (dns_state_ != Dns::kUnresolved || shutting_down_) return;
  dns_state_ = Dns::kResolving;
  std::weak_ptr<bool> alive = alive_;
  dns_.resolve(
      endpoint_.host, endpoint_.port,
      [this, alive](bool ok, const std::vector<ResolvedAddress>& addrs, const std::string& error) {
        if (alive.expired() || !*alive.lock()) return;
        if (ok) {
          dns_state_ = Dns::kResolved;
          address_ = addrs.front();
          pump();
          return;
        }
        dns_state_ = Dns::kUnresolved;
        last_error_ = endpoint_.display() + ": " + error;
        prewarm_pending_ = 0;
        std::deque<Waiting> failed;
        failed.swap(queue_);
        const int64_t t = mono_now_ns();
        for (Waiting& w : failed) {
          w.listener->queued_ = false;
          w.listener->on_error(t, NetError{ErrorKind::kDns, false, last_error_});
        }
      });
}

HttpConnection* ConnectionPool::pop_idle() {
  HttpConnection* c = idle_head_;
  if (c != nullptr) unlink_idle(*c);
  return c;
}

void ConnectionPool::push_idle(HttpConnection& c) {
  c.owner_prev = nullptr;
  c.owner_next = idle_head_;
  if (idle_head_ != nullptr) idle_head_->owner_prev = &c;
  idle_head_ = &c;
  c.owner_listed = true;
  ++idle_count_;
}

void ConnectionPool::unlink_idle(HttpConnection& c) {
  if (!c.owner_listed) return;
  if (c.owner_prev != nullptr) c.owner_prev->owner_next = c.owner_next;
  if (c.owner_next != nullptr) c.owner_next->owner_prev = c.owner_prev;
  if (idle_head_ == &c) idle_head_ = c.owner_next;
  c.owner_prev = c.owner_next = nullptr;
  c.owner_listed = false;
  --idle_count_;
}

void ConnectionPool::open(const Waiting* w) {
  HttpConnection* c = HttpConnection::create(loop_, config_, this);
  live_.insert(c);
  ++connecting_;
  ++counters_.opened;
  if (w != nullptr) send_on(c, *w);
  const int64_t now = options_.clock != nullptr ? options_.clock->now_ns() : mono_now_ns();
  c->connect(address_.get(), now + options_.connect_timeout_ns);
}

void ConnectionPool::pump() {
  if (pumping_) {  // a listener called back into the pool: finish in the outer loop
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    while (!queue_.empty() && !shutting_down_) {
      const Waiting w = queue_.front();
      if (!w.fresh && idle_head_ != nullptr) {
        queue_.pop_front();
        w.listener->queued_ = false;
        HttpConnection* c = pop_idle();
        ++counters_.reused;
        send_on(c, w);
        continue;
      }
      if (dns_state_ != Dns::kResolved || connecting_ >= options_.max_connects_in_flight) break;
      queue_.pop_front();
      w.listener->queued_ = false;
      open(&w);
    }
    while (prewarm_pending_ > 0 && !shutting_down_ && dns_state_ == Dns::kResolved &&
           connecting_ < options_.max_connects_in_flight) {
      --prewarm_pending_;
      open(nullptr);
    }
  } while (pump_again_);
  pumping_ = false;
}

void ConnectionPool::on_connection_connected(HttpConnection& c) {
  --connecting_;
  ++counters_.connected;
  if (c.tls_session_reused()) ++counters_.tls_resumed;
  pump();
}

void ConnectionPool::on_connection_idle(HttpConnection& c) {
  if (c.owner_pin != nullptr && !shutting_down_) {
    c.owner_parked = true;
    ++pinned_idle_;  // waits for its holder's next request
    return;
  }
  if (shutting_down_ || idle_count_ >= options_.max_idle) {
    c.close();
    return;
  }
  push_idle(c);
  pump();
}

void ConnectionPool::on_connection_closing(HttpConnection& c, const NetError* error,
                                           bool was_connecting) {
  unlink_idle(c);
  if (c.owner_parked) {
    c.owner_parked = false;
    --pinned_idle_;
  }
  // The holder's next request pins a fresh connection. c keeps owner_pin for a retry from
  // this close (on_connection_retry hands the pin on to the retry's connection).
  if (c.owner_pin != nullptr && c.owner_pin->conn == &c) c.owner_pin->conn = nullptr;
  if (was_connecting) {
    --connecting_;
    ++counters_.connect_failures;
  }
  if (error != nullptr) last_error_ = error->message;
  pump();
}

void ConnectionPool::on_connection_retry(HttpConnection& c, const HttpRequest& request,
                                         HttpListener* listener, int64_t t) {
  ++counters_.retries;
  listener->on_retry(t);
  if (shutting_down_) return;
  // The pinned connection went stale: the retry's fresh connection becomes the pinned one.
  ConnectionPin* pin = c.owner_pin;
  listener->queued_ = true;
  queue_.push_front(Waiting{&request, listener, true, pin});
  pump();
}

void ConnectionPool::on_connection_closed(HttpConnection* c) {
  live_.erase(c);
  delete c;
  if (shutting_down_ && live_.empty() && shutdown_done_) {
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    done();
  }
}

void ConnectionPool::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  prewarm_pending_ = 0;
  for (Waiting& w : queue_) w.listener->queued_ = false;
  queue_.clear();
  if (live_.empty()) {
    if (done) done();
    return;
  }
  shutdown_done_ = std::move(done);
  std::vector<HttpConnection*> all(live_.begin(), live_.end());
  for (HttpConnection* c : all) c->cancel();
}

}  // namespace llmload::worker
