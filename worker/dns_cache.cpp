#include "worker/dns_cache.h"

#include <netdb.h>

#include <cstring>

namespace llmload::worker {

struct DnsCache::Pending {
  uv_getaddrinfo_t req;
  DnsCache* cache;  // null once the cache is gone
  std::string key;
  std::string host;
  std::vector<Callback> waiters;
};

namespace {
std::string key_of(const std::string& host, uint16_t port) {
  return host + "|" + std::to_string(port);
}
}  // namespace

DnsCache::~DnsCache() {
  for (auto& [key, p] : pending_) {
    p->cache = nullptr;
    p->waiters.clear();
    uv_cancel(reinterpret_cast<uv_req_t*>(&p->req));  // the callback still runs and frees p
  }
}

const std::vector<ResolvedAddress>* DnsCache::cached(const std::string& host, uint16_t port) const {
  auto it = cache_.find(key_of(host, port));
  return it == cache_.end() ? nullptr : &it->second;
}

void DnsCache::resolve(const std::string& host, uint16_t port, Callback cb) {
  const std::string key = key_of(host, port);
  if (auto it = cache_.find(key); it != cache_.end()) {
    cb(true, it->second, {});
    return;
  }
  ResolvedAddress a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (uv_ip4_addr(host.c_str(), port, in4) == 0 || uv_ip6_addr(host.c_str(), port, in6) == 0) {
    auto& v = cache_[key];
    v.push_back(a);
    cb(true, v, {});
    return;
  }
  if (auto it = pending_.find(key); it != pending_.end()) {
    it->second->waiters.push_back(std::move(cb));
    return;
  }
  auto* p = new Pending;
  p->cache = this;
  p->key = key;
  p->host = host;
  p->req.data = p;
  p->waiters.push_back(std::move(cb));
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  ++lookups_;
  const std::string service = std::to_string(port);
  int rc =
      uv_getaddrinfo(loop_, &p->req, &DnsCache::on_resolved, host.c_str(), service.c_str(), &hints);
  if (rc < 0) {
    std::vector<Callback> waiters = std::move(p->waiters);
    delete p;
    for (auto& w : waiters) w(false, {}, "resolve '" + host + "': " + uv_strerror(rc));
    return;
  }
  pending_[key] = p;
}

void DnsCache::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* p = static_cast<Pending*>(req->data);
  DnsCache* self = p->cache;
  std::vector<ResolvedAddress> addrs;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    ResolvedAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    addrs.push_back(a);
  }
  if (res != nullptr) uv_freeaddrinfo(res);
  if (self == nullptr) {  // the cache is gone
    delete p;
    return;
  }
  self->pending_.erase(p->key);
  std::vector<Callback> waiters = std::move(p->waiters);
  const std::string host = p->host;
  const std::string key = p->key;
  delete p;
  if (status < 0 || addrs.empty()) {
    const std::string why = status < 0 ? uv_strerror(status) : "no IPv4/IPv6 address";
    for (auto& w : waiters) w(false, {}, "resolve '" + host + "': " + why);
    return;
  }
  auto& cached = self->cache_[key];
  cached = std::move(addrs);
  for (auto& w : waiters) w(true, cached, {});
}

}  // namespace llmload::worker
