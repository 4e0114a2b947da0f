// Name resolution off the hot path: uv_getaddrinfo once per host:port per loop, the answer
// cached for the loop's life (a load test resolves its targets before the start instant);
// concurrent lookups of one name share one query. IP literals never touch the resolver.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace llmload::worker {

struct ResolvedAddress {
  sockaddr_storage storage{};
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

class DnsCache {
 public:
  // ok: addresses (at least one); else error names the host and the resolver's reason.
  using Callback = std::function<void(bool ok, const std::vector<ResolvedAddress>& addrs,
                                      const std::string& error)>;

  explicit DnsCache(uv_loop_t* loop) : loop_(loop) {}
  // Cancels lookups in flight (their callbacks are never called).
  ~DnsCache();
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // Calls `cb` with the addresses of host:port: at once for an IP literal or a cached answer,
  // else from the loop when uv_getaddrinfo answers. Failures are not cached.
  void resolve(const std::string& host, uint16_t port, Callback cb);
  // The cached answer, or nullptr.
  const std::vector<ResolvedAddress>* cached(const std::string& host, uint16_t port) const;
  uint64_t lookups() const { return lookups_; }

 private:
  struct Pending;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);

  uv_loop_t* loop_;
  std::map<std::string, std::vector<ResolvedAddress>> cache_;
  std::map<std::string, Pending*> pending_;
  uint64_t lookups_ = 0;
};

}  // namespace llmload::worker
