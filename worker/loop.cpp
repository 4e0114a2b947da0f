#include "worker/loop.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>

#include "common/synthetic_text.h"
#include "worker/dns_cache.h"
#include "worker/scheduler_trace.h"

namespace llmload::worker {

namespace {
constexpr int64_t kLagProbeNs = 10'000'000;

template <class H>
Loop* owner_of(H* h) {
  return static_cast<Loop*>(h->data);
}
}  // namespace

Loop::Loop(LoopConfig config, std::shared_ptr<const RunPlan> plan)
    : config_(std::move(config)),
      plan_(std::move(plan)),
      recorder_(plan_->group_labels(), config_.keep_rows),
      rng_(config_.seed) {}

Loop::~Loop() {
  join();
}

void Loop::start() {
  thread_ = std::thread([this] { run(); });
}

void Loop::join() {
  if (thread_.joinable()) thread_.join();
}

void Loop::stop(int64_t grace_ns) {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stop_requested_ = true;
  stop_grace_ = std::max<int64_t>(0, grace_ns);
  if (async_ready_) uv_async_send(&async_);
}

void Loop::run() {
  uv_loop_init(&loop_);
  uv_loop_configure(&loop_, UV_METRICS_IDLE_TIME);
  dns_ = std::make_unique<DnsCache>(&loop_);
  for (const PlanTarget& t : plan_->targets) {
    PoolOptions po;
    po.max_connects_in_flight = config_.max_connects_in_flight;
    po.clock = &clock_;
    po.kernel_timestamps = config_.kernel_timestamps;
    po.connect_timeout_ns = t.timeouts.connect_ns;
    pools_.push_back(std::make_unique<ConnectionPool>(&loop_, t.endpoint, t.tls, *dns_, po));
  }
  ctx_.plan = plan_.get();
  for (auto& p : pools_) ctx_.pools.push_back(p.get());
  ctx_.recorder = &recorder_;
  ctx_.owner = this;
  ctx_.worker_id = config_.worker_id;
  if (plan_->trace && config_.open_loop) {
    SchedulerHost& host = *this;
    scheduler_ = std::make_unique<TraceScheduler>(
        config_.sched, clock_, host, plan_->trace, plan_->trace_spec,
        trace_rows_for_loop(*plan_->trace, config_.run_loop, config_.run_loops));
  } else {
    scheduler_ = make_scheduler(config_.open_loop, config_.sched, clock_, *this);
  }
  ctx_.window_start_ns = scheduler_->window_start_ns();

  const size_t users = static_cast<size_t>(std::floor(scheduler_->profile().max_level() + 1e-9));
  if (!config_.open_loop) {
    users_.resize(users);
    slots_.reserve(users);
    free_.reserve(users);
  }
  sessions_ = config_.open_loop && plan_->items.size() > plan_->conversation_start.size();
  for (Conversation& c : users_) c.history = LiveHistory(size_t(plan_->history_max_bytes));

  auto init_timer = [this](uv_timer_t* t) {
    uv_timer_init(&loop_, t);
    t->data = this;
    ++open_handles_;
  };
  init_timer(&sched_timer_);
  init_timer(&interval_timer_);
  init_timer(&lag_timer_);
  init_timer(&stall_timer_);
  uv_check_init(&loop_, &check_);
  check_.data = this;
  ++open_handles_;
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  ++open_handles_;
  uv_async_init(&loop_, &async_, [](uv_async_t* a) {
    Loop* self = owner_of(a);
    int64_t grace;
    {
      std::lock_guard<std::mutex> lock(self->stop_mu_);
      grace = self->stop_grace_;
    }
    if (self->scheduler_ && !self->shutting_down_) {
      self->scheduler_->stop(grace);
      self->want_poll();
    }
  });
  async_.data = this;
  ++open_handles_;
  uv_check_start(&check_, [](uv_check_t* c) {
    Loop* self = owner_of(c);
    if (!self->poll_pending_) return;
    self->poll_pending_ = false;
    uv_idle_stop(&self->idle_);
    self->do_poll();
  });
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    async_ready_ = true;
    if (stop_requested_) uv_async_send(&async_);
  }

  // Connections before the start instant where the load shape allows (closed loop: the
  // initial users, spread over the targets by weight).
  const int64_t now = clock_.now_ns();
  if (!config_.open_loop && config_.sched.start_ns > now) {
    std::vector<double> per_target(plan_->targets.size(), 0);
    for (const PlanGroup& g : plan_->groups) per_target[size_t(g.target)] += g.weight;
    const double level = scheduler_->profile().level_at(config_.sched.start_ns);
    for (size_t t = 0; t < pools_.size(); ++t) {
      pools_[t]->prewarm(static_cast<size_t>(std::ceil(level * per_target[t])));
    }
  }

  wall_mark_ = now;
  idle_mark_ = uv_metrics_idle_time(&loop_);
  interval_start_ = scheduler_->window_start_ns();
  next_boundary_ = interval_start_ + config_.interval_ns;
  uv_update_time(&loop_);
  uv_timer_start(
      &interval_timer_, [](uv_timer_t* t) { owner_of(t)->on_interval(); },
      uint64_t(std::max<int64_t>(0, (next_boundary_ - now + 999'999) / 1'000'000)), 0);
  lag_due_ = now + kLagProbeNs;
  uv_timer_start(
      &lag_timer_,
      [](uv_timer_t* t) {
        Loop* self = owner_of(t);
        const int64_t n = mono_now_ns();
        const int64_t lag_us = std::max<int64_t>(0, ns_to_us(n - self->lag_due_));
        if (n >= self->interval_start_) {  // the measured window's (warmup's are not kept)
          HdrHistogram& h = self->recorder_.active().client.loop_lag_us;
          h.record(std::min(lag_us, h.highest_trackable()));
        }
        self->lag_max_interval_ = std::max(self->lag_max_interval_, lag_us);
        self->lag_due_ = n + kLagProbeNs;
      },
      kLagProbeNs / 1'000'000, kLagProbeNs / 1'000'000);
  if (config_.stall_until_ns > config_.stall_from_ns) {
    uv_timer_start(
        &stall_timer_,
        [](uv_timer_t* t) {
          const int64_t until = owner_of(t)->config_.stall_until_ns;
          const timespec ts{time_t(until / 1'000'000'000), long(until % 1'000'000'000)};
          while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
          }
        },
        uint64_t(std::max<int64_t>(0, (config_.stall_from_ns - now + 999'999) / 1'000'000)), 0);
  }

  do_poll();
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Every handle is closed and every pool has freed its connections.
  pools_.clear();
  dns_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);  // DNS cancellations' callbacks, if any
  if (uv_loop_close(&loop_) != 0) error_ = "loop closed with handles still open";
  done_.store(true, std::memory_order_release);
}

void Loop::want_poll() {
  if (poll_pending_ || shutting_down_) return;
  poll_pending_ = true;
  // An idle handle keeps the loop from blocking before the check callback runs the poll.
  uv_idle_start(&idle_, [](uv_idle_t*) {});
}

void Loop::do_poll() {
  if (shutting_down_) return;
  const int64_t wake = scheduler_->poll();
  if (scheduler_->finished()) {
    shutdown();
    return;
  }
  arm_scheduler(wake);
}

void Loop::arm_scheduler(int64_t wake) {
  if (wake == kNever) {
    uv_timer_stop(&sched_timer_);
    return;
  }
  uv_update_time(&loop_);
  const int64_t delta = wake - clock_.now_ns();
  // libuv timers count whole milliseconds: round up, so a start is never early; lateness shows
  // in the queue metric (rate mode) and the lag probe.
  const uint64_t ms = delta <= 0 ? 0 : uint64_t((delta + 999'999) / 1'000'000);
  uv_timer_start(
      &sched_timer_, [](uv_timer_t* t) { owner_of(t)->do_poll(); }, ms, 0);
}

void Loop::swap_interval(int64_t end_ns, bool last) {
  const uint64_t idle = uv_metrics_idle_time(&loop_);
  const int64_t wall = std::max<int64_t>(1, end_ns - wall_mark_);
  const double busy = std::clamp(1.0 - double(idle - idle_mark_) / double(wall), 0.0, 1.0);
  idle_mark_ = idle;
  wall_mark_ = end_ns;
  recorder_.swap(interval_index_, interval_start_, end_ns, scheduler_->in_flight(),
                 lag_max_interval_, busy, last);
  lag_max_interval_ = 0;
}

void Loop::on_interval() {
  const int64_t now = clock_.now_ns();
  while (now >= next_boundary_) {
    swap_interval(next_boundary_, false);
    ++interval_index_;
    interval_start_ = next_boundary_;
    next_boundary_ += config_.interval_ns;
  }
  uv_update_time(&loop_);
  uv_timer_start(
      &interval_timer_, [](uv_timer_t* t) { owner_of(t)->on_interval(); },
      uint64_t((next_boundary_ - clock_.now_ns() + 999'999) / 1'000'000), 0);
}

void Loop::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  const int64_t now = clock_.now_ns();
  if (now >= next_boundary_) on_interval();
  recorder_.active().measured_end_ns = scheduler_->measured_end_ns();
  swap_interval(std::max(now, interval_start_), true);
  uv_timer_stop(&sched_timer_);
  uv_timer_stop(&interval_timer_);
  uv_timer_stop(&lag_timer_);
  pools_open_ = int(pools_.size());
  if (pools_open_ == 0) {
    close_handles();
    return;
  }
  for (auto& p : pools_) {
    p->shutdown([this] {
      if (--pools_open_ == 0) close_handles();
    });
  }
}

void Loop::close_handles() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    async_ready_ = false;
  }
  auto closed = [](uv_handle_t* h) { --owner_of(h)->open_handles_; };
  uv_close(reinterpret_cast<uv_handle_t*>(&sched_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&interval_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&lag_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&stall_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), closed);
}

Request* Loop::take_slot() {
  if (!free_.empty()) {
    Request* r = free_.back();
    free_.pop_back();
    return r;
  }
  slots_.push_back(std::make_unique<Request>(ctx_));
  return slots_.back().get();
}

void Loop::link(Request* r) {
  r->prev_active = nullptr;
  r->next_active = active_head_;
  if (active_head_) active_head_->prev_active = r;
  active_head_ = r;
}

void Loop::unlink(Request* r) {
  if (r->prev_active) r->prev_active->next_active = r->next_active;
  if (r->next_active) r->next_active->prev_active = r->prev_active;
  if (active_head_ == r) active_head_ = r->next_active;
  r->next_active = r->prev_active = nullptr;
}

Conversation* Loop::conversation_of(int32_t user) {
  if (user >= 0 && size_t(user) < users_.size()) return &users_[size_t(user)];
  return nullptr;
}

int64_t Loop::item_for(int64_t taken, int64_t count) const {
  const RunPlan& plan = *plan_;
  if (!plan.dataset) {
    const int64_t k = (config_.prompt_offset + taken) % count;
    // `count`: the items, or the conversations (their first turns).
    return count == int64_t(plan.items.size()) ? k : plan.conversation_start[size_t(k)];
  }
  // Run-wide numbers: the loop's budget is its own block of the run's (LoopShare), so a run of
  // N requests numbers them 0 .. N-1 over every worker; past it, the loops interleave.
  const LoopConfig& c = config_;
  const int64_t number = taken < c.requests
                             ? c.first_request + taken
                             : c.run_requests + (taken - c.requests) * c.run_loops + c.run_loop;
  return plan.dataset_item(number);
}

void Loop::start_request(const StartTicket& ticket) {
  const RunPlan& plan = *plan_;
  int32_t user = ticket.user;
  if (sessions_ && user < 0) {
    // Rate mode: an arrival starts a session (its next turns: scheduler_open.h).
    if (!free_sessions_.empty()) {
      user = free_sessions_.back();
      free_sessions_.pop_back();
    } else {
      user = int32_t(users_.size());
      users_.emplace_back().history = LiveHistory(size_t(plan.history_max_bytes));
    }
  }
  // Scenario `cancel:`: picked with probability share, closed `after` (a draw) from its write.
  int64_t cancel_after = 0;
  if (plan.cancel.share > 0 && rng_.uniform01() < plan.cancel.share)
    cancel_after = std::max<int64_t>(1, std::llround(plan.cancel.after.sample(rng_)));
  if (Conversation* c = conversation_of(user)) {
    start_turn(*c, user, ticket, cancel_after);
    return;
  }
  const int64_t item = item_for(item_cursor_++, int64_t(plan.items.size()));
  int group = plan.pick_group(rng_.uniform01());
  Request* r = take_slot();
  link(r);
  Request::StartOptions o{.cancel_after_ns = cancel_after};
  BodyFill fill;
  if (plan.per_request) o.fill = fill_body(fill, ticket, nullptr, item, group, o.prompt);
  r->start(ticket, group, item, o);
}

const BodyFill* Loop::fill_body(BodyFill& fill, const StartTicket& ticket, Conversation* c,
                                int64_t item, int& group, int64_t& prompt) {
  // The body is written now (worker/body_template.h): keyed by (seed, run loop, sequence), so
  // every request of the run, and every conversation, gets its own text or tag.
  const RunPlan& plan = *plan_;
  const int64_t sequence = sequence_++;
  fill.key = request_key(config_.run_seed, config_.run_loop, sequence);
  fill.tag_key = fill.key;
  if (c != nullptr) {
    // Every turn of a conversation shares its first turn's tag.
    if (plan.items[size_t(item)].turn == 0) c->tag_key = fill.key;
    fill.tag_key = c->tag_key;
  }
  if (ticket.trace_seq >= 0 && plan.trace) {
    const Trace& t = *plan.trace;
    const TraceRow& row = t.rows[size_t(ticket.trace_seq % int64_t(t.rows.size()))];
    fill.row = &row;
    fill.trace = &t;
    prompt = row.line;
    if (row.model >= 0) {
      const std::vector<int>& gs = plan.model_groups[size_t(row.model)];
      group = gs[size_t(rng_.below(gs.size()))];
    }
  } else if (plan.synthetic) {
    // The request's own text: requests.csv names it by its number in the run.
    prompt = sequence * config_.run_loops + config_.run_loop;
  }
  return &fill;
}

void Loop::start_turn(Conversation& c, int32_t user, StartTicket ticket, int64_t cancel_after) {
  const RunPlan& plan = *plan_;
  if (c.item >= 0 && !plan.items[size_t(c.item)].last_turn) {
    ++c.item;  // the conversation's next turn
  } else {
    // A user replays a conversation turn by turn, then takes the next one.
    const int64_t conversations = int64_t(plan.conversation_start.size());
    const int64_t first = item_for(conversation_cursor_++, conversations);
    if (c.pin.conn != nullptr) pools_[size_t(plan.groups[size_t(c.group)].target)]->release(&c.pin);
    c.item = first;
    c.group = plan.pick_group(rng_.uniform01());
    c.history.reset();
  }
  const PlanItem& it = plan.items[size_t(c.item)];
  const HttpRequest* bytes = nullptr;
  if (plan.live_history && it.turn > 0) {
    // Built now: the body holds the replies this conversation has had (no prompt is built on
    // the per-token path; a failure cannot happen for a body the plan built once already, and
    // would send the recorded history instead).
    if (auto req = build_live_request(plan, c.group, c.item, c.history)) {
      c.request = std::move(req.value());
      bytes = &c.request;
    }
  }
  const size_t reply_cap = plan.live_history && !it.last_turn ? size_t(plan.history_max_bytes) : 0;
  ticket.user = user;
  Request* r = take_slot();
  link(r);
  Request::StartOptions o{.request = bytes,
                          .pin = plan.sticky ? &c.pin : nullptr,
                          .reply_cap = reply_cap,
                          .cancel_after_ns = cancel_after};
  BodyFill fill;
  int group = c.group;
  if (plan.per_request && bytes == nullptr) o.fill = fill_body(fill, ticket, &c, c.item, group, o.prompt);
  r->start(ticket, c.group, c.item, o);
}

void Loop::end_conversation(Conversation& c) {
  if (c.pin.conn != nullptr) pools_[size_t(plan_->groups[size_t(c.group)].target)]->release(&c.pin);
  c.item = -1;
  c.history.reset();
}

void Loop::on_dropped(const StartTicket& ticket) {
  // Counted in the group of the request the arrival would have been: its group by weight, and
  // the prompt next in turn (not taken: the next request that starts sends it).
  int group;
  if (Conversation* c = conversation_of(ticket.user); c != nullptr && c->item >= 0) {
    // A session's next turn: counted in its group; the session ends.
    group = plan_->record_group(c->group,
                                std::min<int64_t>(c->item + 1, int64_t(plan_->items.size()) - 1));
    end_conversation(*c);
    free_sessions_.push_back(ticket.user);
  } else {
    const int64_t next = item_for(item_cursor_, int64_t(plan_->items.size()));
    group = plan_->record_group(plan_->pick_group(rng_.uniform01()), next);
  }
  if (GroupStats* g = recorder_.group(ticket.measured, group)) {
    ++g->counters.dropped;
  }
}

void Loop::cancel_in_flight() {
  const int64_t now = clock_.now_ns();
  while (active_head_ != nullptr) active_head_->cancel(now);
}

void Loop::on_request_done(Request& request) {
  unlink(&request);
  free_.push_back(&request);
  StartTicket ticket = request.ticket();
  if (Conversation* c = conversation_of(ticket.user); c != nullptr && c->item >= 0) {
    const RunPlan& plan = *plan_;
    const bool last = plan.items[size_t(c->item)].last_turn;
    const bool failed = request.outcome().has_value();
    // history: live has no reply to carry on with after a failed turn: the conversation ends.
    if (last || (failed && plan.live_history)) {
      end_conversation(*c);
      if (sessions_) {
        free_sessions_.push_back(ticket.user);
        ticket.user = -1;  // rate mode: no next turn for this session
      }
    } else if (plan.live_history) {
      c->history.add(std::move(request.reply()));
    }
  }
  scheduler_->on_finished(ticket, clock_.now_ns());
  want_poll();
}

}  // namespace llmload::worker
