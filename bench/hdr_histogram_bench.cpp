// HdrHistogram costs on the paths llmload pays for:
// - record(): every measured value on a worker's event loop (target <= 5 ns per value);
// - IntervalRecorder::record() (bench/interval_recorder.h, the reference Recorder design, for
//   comparison): the same through a wait-free interval double buffer;
// - add(), encode_compressed(), decode(): the interval hand-off worker -> coordinator;
// - decode + add of a typical 1 s interval (2,000 TTFT values over 20-200 ms): what the
//   coordinator pays per metric, per worker, per second (and add_encoded(), the same in one).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bench/interval_recorder.h"
#include "common/base64.h"
#include "common/hdr_histogram.h"

namespace llmload {
namespace {

// Microsecond values of a plausible latency distribution (lognormal around 50 ms).
std::vector<int64_t> latency_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ln(std::log(50'000.0), 1.0);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = std::min<int64_t>(std::llround(ln(rng)), 3'600'000'000);
  return v;
}

// A typical 1 s interval: 2,000 TTFT values spread over 20-200 ms.
HdrHistogram typical_interval(uint64_t seed) {
  HdrHistogram h = HdrHistogram::for_micros();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> u(20'000, 200'000);
  for (int i = 0; i < 2000; ++i) h.record(u(rng));
  return h;
}

void BM_Record(benchmark::State& state) {
  std::vector<int64_t> values = latency_values(1 << 16, 1);
  HdrHistogram h = HdrHistogram::for_micros();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.record(values[i]));
    i = (i + 1) & (values.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Record);

void BM_RecorderRecord(benchmark::State& state) {
  std::vector<int64_t> values = latency_values(1 << 16, 2);
  IntervalRecorder rec(HdrHistogram::for_micros());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rec.record(values[i]));
    i = (i + 1) & (values.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecorderRecord);

void BM_RecorderTakeInterval(benchmark::State& state) {
  IntervalRecorder rec(HdrHistogram::for_micros());
  HdrHistogram into = HdrHistogram::for_micros();
  for (auto _ : state) {
    rec.record(1234);
    rec.take_interval(into);
    benchmark::DoNotOptimize(into.total_count());
  }
}
BENCHMARK(BM_RecorderTakeInterval);

void BM_AddTypicalInterval(benchmark::State& state) {
  HdrHistogram interval = typical_interval(3);
  HdrHistogram total = HdrHistogram::for_micros();
  for (auto _ : state) {
    total.add(interval);
    benchmark::DoNotOptimize(total.total_count());
  }
}
BENCHMARK(BM_AddTypicalInterval);

void BM_AddDifferentSettings(benchmark::State& state) {
  HdrHistogram interval = typical_interval(4);
  HdrHistogram total(1, 3'600'000'000, 2);
  for (auto _ : state) {
    total.add(interval);
    benchmark::DoNotOptimize(total.total_count());
  }
}
BENCHMARK(BM_AddDifferentSettings);

void BM_EncodeCompressedTypical(benchmark::State& state) {
  HdrHistogram interval = typical_interval(5);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string enc = interval.encode_compressed();
    bytes = enc.size();
    benchmark::DoNotOptimize(enc.data());
  }
  state.counters["encoded_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeCompressedTypical);

void BM_EncodeCompressedMillion(benchmark::State& state) {
  HdrHistogram h = HdrHistogram::for_micros();
  for (int64_t v : latency_values(1'000'000, 6)) h.record(v);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string enc = h.encode_compressed();
    bytes = enc.size();
    benchmark::DoNotOptimize(enc.data());
  }
  state.counters["encoded_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeCompressedMillion);

void BM_DecodeTypical(benchmark::State& state) {
  std::string enc = typical_interval(7).encode_compressed();
  for (auto _ : state) {
    auto h = HdrHistogram::decode(enc);
    benchmark::DoNotOptimize(h.ok());
  }
}
BENCHMARK(BM_DecodeTypical);

// base64 of an encoded histogram: summary.json's `hdr`, every histograms.hlog line (OpenSSL's
// EVP_EncodeBlock / EVP_DecodeBlock under common/base64.cpp's checks).
void BM_Base64EncodeTypical(benchmark::State& state) {
  const std::string enc = typical_interval(9).encode_compressed();
  for (auto _ : state) benchmark::DoNotOptimize(base64_encode(enc).data());
  state.counters["bytes"] = static_cast<double>(enc.size());
}
BENCHMARK(BM_Base64EncodeTypical);

void BM_Base64DecodeTypical(benchmark::State& state) {
  const std::string text = base64_encode(typical_interval(10).encode_compressed());
  for (auto _ : state) benchmark::DoNotOptimize(base64_decode(text).ok());
  state.counters["chars"] = static_cast<double>(text.size());
}
BENCHMARK(BM_Base64DecodeTypical);

void BM_DecodeAndAddTypicalInterval(benchmark::State& state) {
  std::string enc = typical_interval(8).encode_compressed();
  HdrHistogram total = HdrHistogram::for_micros();
  for (auto _ : state) {
    auto h = HdrHistogram::decode(enc);
    total.add(*h);
    benchmark::DoNotOptimize(total.total_count());
  }
}
BENCHMARK(BM_DecodeAndAddTypicalInterval);

// The same merge through add_encoded(): no decoded copy is allocated.
void BM_AddEncodedTypicalInterval(benchmark::State& state) {
  std::string enc = typical_interval(8).encode_compressed();
  HdrHistogram total = HdrHistogram::for_micros();
  for (auto _ : state) {
    auto ok = total.add_encoded(enc);
    benchmark::DoNotOptimize(ok.ok());
  }
}
BENCHMARK(BM_AddEncodedTypicalInterval);

void BM_ValueAtPercentile99(benchmark::State& state) {
  HdrHistogram h = HdrHistogram::for_micros();
  for (int64_t v : latency_values(100'000, 9)) h.record(v);
  for (auto _ : state) benchmark::DoNotOptimize(h.value_at_percentile(99.0));
}
BENCHMARK(BM_ValueAtPercentile99);

}  // namespace
}  // namespace llmload
