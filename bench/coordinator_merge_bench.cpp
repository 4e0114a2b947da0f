// How many worker interval REPORTs the coordinator merges per second on one core: decode
// (MessagePack, field checks, histogram decode) + LiveMerge::add (+ take_through: the interval's
// total). Each report: 10 groups x every fixed metric, values drawn like a real run's at seconds
// scale (bench/report_sample.h: ttft ~1 s, e2e ~6-15 s, itl ~30 ms, 10 requests per group), so
// the histograms have a real run's spread. kFrames distinct reports are drawn and encoded before
// timing and decoded in turn, so no frame is decoded twice in a row and the working set is a real
// fan-in's (64 x ~60 KB), not one frame hot in the cache.
// Arg 1 (the default): the coordinator's decode (WireLimits::keep_encoded: histograms checked,
// then merged from their encodings); arg 0: every histogram decoded first, then merged.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "bench/report_sample.h"
#include "common/wire.h"
#include "coordinator/live_merge.h"

using namespace llmload::coord;  // NOLINT: the tests name the types they test

namespace llmload {
namespace {

constexpr std::size_t kFrames = 64;

const std::vector<wire::Frames>& frames() {
  static const std::vector<wire::Frames> all = [] {
    std::mt19937_64 rng(42);
    std::vector<wire::Frames> out;
    for (std::size_t i = 0; i < kFrames; ++i) {
      wire::Report r;
      r.run_id = "bench";
      r.seq = 1;
      r.snapshot = make_report_sample(rng, 10, 10);
      r.snapshot->start_ns = 0;
      r.snapshot->end_ns = 1'000'000'000;
      out.push_back(wire::encode(r));
    }
    return out;
  }();
  return all;
}

wire::DecodeLimits limits_for(int64_t keep_encoded) {
  wire::DecodeLimits limits;
  limits.stats.keep_encoded = keep_encoded != 0;
  return limits;
}

double mean_bytes() {
  double sum = 0;
  for (const auto& f : frames()) sum += double(f.body.size());
  return sum / double(frames().size());
}

// One worker: every report opens a new interval (the worst case for the interval's groups).
void BM_MergeReports(benchmark::State& state) {
  const auto& fs = frames();
  LiveMerge merge(1);
  const wire::DecodeLimits limits = limits_for(state.range(0));
  int64_t seq = 0;
  for (auto _ : state) {
    const wire::Frames& f = fs[std::size_t(seq) % fs.size()];
    auto msg = wire::decode(f.type, f.body, limits);
    if (!msg) state.SkipWithError(msg.error().c_str());
    auto& rep = std::get<wire::Report>(msg.value());
    merge.add(0, ++seq, std::move(*rep.snapshot), 0);
    if (seq % 64 == 0) merge.take_through(seq);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_report"] = mean_bytes();
}
BENCHMARK(BM_MergeReports)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The same reports from W workers, each interval reported by all of them (a distributed run):
// the interval's groups are built once per W reports, the interval total once per interval.
void BM_MergeReportsWorkers(benchmark::State& state) {
  const int64_t workers = state.range(0);
  const auto& fs = frames();
  LiveMerge merge(static_cast<std::size_t>(workers));
  const wire::DecodeLimits limits = limits_for(state.range(1));
  int64_t n = 0;
  for (auto _ : state) {
    const wire::Frames& f = fs[std::size_t(n) % fs.size()];
    auto msg = wire::decode(f.type, f.body, limits);
    if (!msg) state.SkipWithError(msg.error().c_str());
    auto& rep = std::get<wire::Report>(msg.value());
    const int64_t seq = n / workers + 1;
    merge.add(std::size_t(n % workers), seq, std::move(*rep.snapshot), 0);
    ++n;
    if (n % workers == 0) merge.take_through(seq);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_report"] = mean_bytes();
}
BENCHMARK(BM_MergeReportsWorkers)
    ->Args({10, 0})
    ->Args({10, 1})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace llmload
