#include "coordinator/worker_registry.h"

#include <cstdio>

#include "common/clock.h"

namespace llmload::coord {

std::string_view name(WorkerState s) {
  switch (s) {
    case WorkerState::kJoined:
      return "joined";
    case WorkerState::kPreflight:
      return "preflight";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kDone:
      return "done";
    case WorkerState::kLost:
      return "lost";
  }
  return "?";
}

Expected<WorkerEntry*> WorkerRegistry::add(const std::string& routing_id, const wire::Hello& hello,
                                           int64_t now) {
  for (auto& [rid, w] : by_routing_) {
    if (w.hello.worker_id == hello.worker_id && w.state != WorkerState::kLost) {
      return Error{"worker id '" + hello.worker_id + "' is already taken by a connected worker"};
    }
  }
  if (by_routing_.count(routing_id)) return Error{"connection already registered"};
  WorkerEntry e;
  e.routing_id = routing_id;
  e.hello = hello;
  e.joined_ns = now;
  e.last_heard_ns = now;
  e.last_ping_sent_ns = now - heartbeat_ns_;  // first PING at once
  auto [it, _] = by_routing_.emplace(routing_id, std::move(e));
  order_.push_back(routing_id);
  return &it->second;
}

WorkerEntry* WorkerRegistry::find(const std::string& routing_id) {
  auto it = by_routing_.find(routing_id);
  return it == by_routing_.end() ? nullptr : &it->second;
}

void WorkerRegistry::mark_lost(WorkerEntry& w, std::string reason, int64_t now) {
  if (w.state == WorkerState::kLost) return;
  w.state = WorkerState::kLost;
  w.lost_reason = std::move(reason);
  w.lost_ns = now;
}

std::vector<WorkerEntry*> WorkerRegistry::expire(int64_t now) {
  std::vector<WorkerEntry*> lost;
  for (const auto& rid : order_) {
    WorkerEntry& w = by_routing_.at(rid);
    if (w.state == WorkerState::kLost || w.state == WorkerState::kDone) continue;
    if (now - w.last_heard_ns >= silence_ns_) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "silent for %.1f s", double(now - w.last_heard_ns) / 1e9);
      mark_lost(w, buf, now);
      lost.push_back(&w);
    }
  }
  return lost;
}

std::vector<WorkerEntry*> WorkerRegistry::due_pings(int64_t now) {
  std::vector<WorkerEntry*> due;
  for (const auto& rid : order_) {
    WorkerEntry& w = by_routing_.at(rid);
    if (w.state == WorkerState::kLost) continue;
    if (now - w.last_ping_sent_ns >= heartbeat_ns_) {
      w.last_ping_sent_ns = now;
      ++w.ping_seq;
      due.push_back(&w);
    }
  }
  return due;
}

std::vector<WorkerEntry*> WorkerRegistry::all() {
  std::vector<WorkerEntry*> v;
  for (const auto& rid : order_) v.push_back(&by_routing_.at(rid));
  return v;
}

std::size_t WorkerRegistry::count(WorkerState s) const {
  std::size_t n = 0;
  for (const auto& [rid, w] : by_routing_) n += w.state == s;
  return n;
}

std::size_t WorkerRegistry::alive() const {
  std::size_t n = 0;
  for (const auto& [rid, w] : by_routing_) n += w.state != WorkerState::kLost;
  return n;
}

}  // namespace llmload::coord
