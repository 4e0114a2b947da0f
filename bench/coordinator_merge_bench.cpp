// How many worker interval REPORTs the coordinator merges per second on one core: decode
// (MessagePack, field checks, histogram decode) + LiveMerge::add (+ take_through: the interval's
// total), 10 groups x 8 metrics each.
#include <benchmark/benchmark.h>

#include "common/wire.h"
#include "coordinator/live_merge.h"

using namespace llmload::coord;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

wire::Frames make_report(int64_t seq) {
  IntervalSnapshot snap;
  snap.start_ns = seq * 1'000'000'000;
  snap.end_ns = snap.start_ns + 1'000'000'000;
  const Metric metrics[8] = {Metric::kTtft,         Metric::kTtfb,       Metric::kItl,
                             Metric::kTpot,         Metric::kE2e,        Metric::kConnect,
                             Metric::kOutputTokens, Metric::kInputTokens};
  for (int g = 0; g < 10; ++g) {
    GroupStats& gs = snap.group({{"model", "m" + std::to_string(g)}, {"target", "t"}});
    for (int i = 0; i < 200; ++i) {
      for (Metric m : metrics) gs.record(m, 50 + (i * 37 + g * 11) % 5000);
      gs.counters.requests++;
      gs.counters.ok++;
    }
  }
  wire::Report r;
  r.run_id = "bench";
  r.seq = seq;
  r.snapshot = std::move(snap);
  return wire::encode(r);
}

void BM_MergeReports(benchmark::State& state) {
  const wire::Frames frames = make_report(1);
  LiveMerge merge(1);
  int64_t seq = 0;
  for (auto _ : state) {
    auto msg = wire::decode(frames.type, frames.body);
    if (!msg) state.SkipWithError(msg.error().c_str());
    auto& rep = std::get<wire::Report>(msg.value());
    merge.add(0, ++seq, std::move(*rep.snapshot), 0);
    if (seq % 64 == 0) merge.take_through(seq);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_report"] = double(frames.body.size());
}
BENCHMARK(BM_MergeReports)->Unit(benchmark::kMicrosecond);

// The same reports from 10 workers, each interval reported by all of them (a distributed run):
// the interval's groups are built once per 10 reports, the interval total once per interval.
void BM_MergeReportsTenWorkers(benchmark::State& state) {
  constexpr int64_t kWorkers = 10;
  const wire::Frames frames = make_report(1);
  LiveMerge merge(kWorkers);
  int64_t n = 0;
  for (auto _ : state) {
    auto msg = wire::decode(frames.type, frames.body);
    if (!msg) state.SkipWithError(msg.error().c_str());
    auto& rep = std::get<wire::Report>(msg.value());
    const int64_t seq = n / kWorkers + 1;
    merge.add(std::size_t(n % kWorkers), seq, std::move(*rep.snapshot), 0);
    ++n;
    if (n % kWorkers == 0) merge.take_through(seq);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MergeReportsTenWorkers)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace llmload
