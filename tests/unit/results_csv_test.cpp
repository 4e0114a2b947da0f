#include "common/results_csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "results_test_util.h"

namespace llmload {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split(std::string_view line) {
  auto f = csv_split(line);
  EXPECT_TRUE(f.ok()) << f.error();
  return f.ok() ? *f : std::vector<std::string>{};
}

TEST(Csv, Escaping) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(csv_escape("cr\r"), "\"cr\r\"");
  for (std::string s : {"a,b", "\"", "\"\"", "x\ny", ",", "", "plain", "tail\""}) {
    std::string line = csv_escape(s) + "," + csv_escape("next");
    auto fields = split(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    EXPECT_EQ(fields[0], s);
    EXPECT_EQ(fields[1], "next");
  }
  EXPECT_FALSE(csv_split("\"open").ok());
  EXPECT_FALSE(csv_split("\"a\"b").ok());
  EXPECT_FALSE(csv_split("a\"b").ok());
}

TEST(Csv, MicrosecondsAsMilliseconds) {
  EXPECT_EQ(format_us_as_ms(0), "0.000");
  EXPECT_EQ(format_us_as_ms(1), "0.001");
  EXPECT_EQ(format_us_as_ms(12345), "12.345");
  EXPECT_EQ(format_us_as_ms(1'000'000), "1000.000");
  EXPECT_EQ(format_us_as_ms(-1), "-0.001");
}

TEST(Csv, SummaryHasOneRowPerGroupAndMetricWithTotalFirst) {
  RunResult r = testing_util::sample_result();
  auto lines = lines_of(summary_csv(r));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "group,metric,unit,count,min,mean,stddev,p50,p90,p95,p99,p999,max");
  // Four count rows (requests, ok, failed, client_cancelled) then the metrics, per group.
  std::size_t expected_rows = 4 + summarize_all(r.total).size();
  for (const auto& g : r.groups) expected_rows += 4 + summarize_all(g.stats).size();
  ASSERT_EQ(lines.size(), 1 + expected_rows);

  // The counts: requests = ok + failed + client_cancelled, readable from the file alone.
  const Counters& c = r.total.counters;
  const int64_t counts[] = {c.requests, c.ok, c.failed, c.client_cancelled};
  const char* names[] = {"requests", "ok", "failed", "client_cancelled"};
  for (std::size_t i = 0; i < 4; ++i) {
    auto f = split(lines[1 + i]);
    ASSERT_EQ(f.size(), 13u);
    EXPECT_EQ(f[0], "total");
    EXPECT_EQ(f[1], names[i]);
    EXPECT_EQ(f[2], "requests");
    EXPECT_EQ(f[3], std::to_string(counts[i]));
    EXPECT_EQ(f[4], "");
  }
  EXPECT_EQ(c.requests, c.ok + c.failed + c.client_cancelled);

  auto first = split(lines[5]);
  ASSERT_EQ(first.size(), 13u);
  EXPECT_EQ(first[0], "total");
  EXPECT_EQ(first[1], "ttft");
  EXPECT_EQ(first[2], "ms");
  EXPECT_EQ(first[3], std::to_string(r.total.count(Metric::kTtft)));
  // Same numbers as summary.json: the histogram's value / 1000, read back exactly.
  EXPECT_EQ(std::stod(first[10]),
            double(r.total.histogram(Metric::kTtft)->value_at_percentile(99)) / 1000.0);

  // The qwen group's key holds a comma: quoted, and read back whole.
  bool found = false;
  for (const auto& line : lines) {
    auto f = split(line);
    if (f.size() == 13 && f[0] == group_key(r.groups[1].stats.labels) && f[1] == "e2e") {
      found = true;
      EXPECT_EQ(f[3], std::to_string(r.groups[1].stats.count(Metric::kE2e)));
    }
  }
  EXPECT_TRUE(found);
}

TEST(Csv, TimeseriesRows) {
  GroupStats interval;
  interval.counters.requests = 10;
  interval.counters.ok = 8;
  interval.counters.failed = 2;
  interval.counters.output_tokens = 500;
  interval.record(Metric::kTtft, 1500);
  IntervalRow row = make_interval_row(interval, 3.0, 0.5, 7);
  EXPECT_EQ(row.requests_per_s, 20.0);
  EXPECT_EQ(row.output_tokens_per_s, 1000.0);
  EXPECT_EQ(row.ttft_p50_ms, 1.5);
  IntervalRow empty = make_interval_row(GroupStats{}, 3.5, 0.5, 0);
  EXPECT_FALSE(empty.ttft_p99_ms.has_value());
  GroupStats cancels;
  cancels.counters.requests = 5;
  cancels.counters.ok = 2;
  cancels.counters.client_cancelled = 3;
  EXPECT_EQ(make_interval_row(cancels, 1.0, 1.0, 0).client_cancelled, 3);

  auto lines = lines_of(timeseries_csv({row, empty}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "elapsed_s,interval_s,requests,ok,failed,in_flight,requests_per_s,"
            "output_tokens_per_s,ttft_p50_ms,ttft_p99_ms,errors,client_cancelled");
  EXPECT_EQ(lines[1], "3,0.5,10,8,2,7,20,1000,1.5,1.5,2,0");
  EXPECT_EQ(lines[2], "3.5,0.5,0,0,0,0,0,0,,,0,0");
}

TEST(Csv, RequestRowsHaveTheDesignColumns) {
  EXPECT_EQ(requests_csv_header(),
            "request_id,worker,group,prompt,sent_unix_ns,start_ms,queue_ms,wait_ms,connect_ms,"
            "tls_ms,ttfb_ms,ttft_ms,ttfo_ms,e2e_ms,output_tokens,tokens_source,outcome,"
            "server_load_ms,server_prompt_tokens,server_prompt_eval_ms,server_output_tokens,"
            "server_eval_ms,server_total_ms,server_cached_tokens,server_prompt_tokens_per_s,"
            "server_eval_tokens_per_s,server_wait_ms,input_tokens,error_message\n");
  RequestRow ok;
  ok.request_id = "chatcmpl-1";
  ok.worker = "w1";
  ok.group = "model=a,target=b";
  ok.prompt = 3;
  ok.sent_unix_ns = 1'796'000'000'123'456'789;  // an integer, every nanosecond kept
  ok.start_us = 1'500'250;
  ok.queue_us = 2'003;
  ok.wait_us = 121;
  ok.connect_us = 120;
  ok.ttfb_us = 30'000;
  ok.ttft_us = 45'001;
  ok.ttfo_us = 45'001;
  ok.e2e_us = 900'000;
  ok.output_tokens = 64;
  ok.tokens_source = TokensSource::kUsage;
  EXPECT_EQ(requests_csv_row(ok),
            "chatcmpl-1,w1,\"model=a,target=b\",3,1796000000123456789,1500.250,2.003,0.121,0.120,,"
            "30.000,45.001,45.001,900.000,64,usage,ok,,,,,,,,,,,,\n");

  RequestRow failed;
  failed.request_id = "id \"x\"";
  failed.start_us = 7;
  failed.error = ErrorKind::kConnectRefused;
  failed.error_message = "http://h:1: connect: connection refused, twice";
  auto f = split(lines_of(requests_csv_row(failed))[0]);
  ASSERT_EQ(f.size(), 29u);
  EXPECT_EQ(f[27], "") << "no input tokens known";
  EXPECT_EQ(f[28], "http://h:1: connect: connection refused, twice") << "quoted: one column";
  EXPECT_EQ(f[0], "id \"x\"");
  EXPECT_EQ(f[3], "");  // no prompt index
  EXPECT_EQ(f[4], "");  // never written: no send instant
  EXPECT_EQ(f[5], "0.007");
  for (int i = 6; i <= 13; ++i) EXPECT_EQ(f[i], "") << i;  // not reached (queue, wait too)
  EXPECT_EQ(f[15], "counted");
  EXPECT_EQ(f[16], "connect_refused");
}

TEST(Csv, AppendingWriterFlushesEveryIntervalAndCloses) {
  auto dir = std::filesystem::temp_directory_path() / ("llmload-csv-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "requests.csv").string();
  auto w = AppendingCsvWriter::create(path, requests_csv_header());
  ASSERT_TRUE(w.ok()) << w.error();
  auto on_disk = [&] { return lines_of(read_file(path).value()); };
  EXPECT_EQ(on_disk().size(), 1u);  // the header is there at once
  RequestRow row;
  row.worker = "w";
  w->append(row);
  w->append(row);
  EXPECT_EQ(on_disk().size(), 1u);  // buffered until the interval's flush
  ASSERT_TRUE(w->flush().ok());
  EXPECT_EQ(on_disk().size(), 3u);
  w->append(row);
  ASSERT_TRUE(w->close().ok());
  EXPECT_EQ(on_disk().size(), 4u);
  EXPECT_FALSE(w->flush().ok());

  auto bad = AppendingCsvWriter::create((dir / "no/such/dir.csv").string(), "h\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("no/such/dir.csv"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Csv, SummaryWriterIsAtomic) {
  auto dir =
      std::filesystem::temp_directory_path() / ("llmload-csvsum-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "summary.csv").string();
  RunResult r = testing_util::sample_result();
  ASSERT_TRUE(write_summary_csv(r, path).ok());
  EXPECT_EQ(read_file(path).value(), summary_csv(r));
  std::filesystem::remove_all(dir);
}

TEST(Csv, TimeseriesReaderFindsColumnsByNameAndNamesBadLines) {
  auto rows = parse_timeseries_csv(
      "elapsed_s,interval_s,requests,ok,failed,in_flight,requests_per_s,output_tokens_per_s,"
      "ttft_p50_ms,ttft_p99_ms,errors\n1,1,10,9,1,4,10,250,50.5,,1\n",
      "ts.csv");
  ASSERT_TRUE(rows) << rows.error();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].in_flight, 4);
  EXPECT_DOUBLE_EQ(*(*rows)[0].ttft_p50_ms, 50.5);
  EXPECT_FALSE((*rows)[0].ttft_p99_ms);
  EXPECT_EQ((*rows)[0].client_cancelled, 0) << "a file from before client_cancelled reads as 0";
  auto bad = parse_timeseries_csv("a,b\n1,2\n", "ts.csv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("ts.csv:1"), std::string::npos);
}

TEST(Csv, TimeseriesReadsBackExactlyWhatWasWritten) {
  std::vector<IntervalRow> rows;
  IntervalRow a;
  a.elapsed_s = 0.1;
  a.interval_s = 1.0 / 3.0;
  a.requests = 12345;
  a.ok = 12000;
  a.failed = 345;
  a.in_flight = 77;
  a.requests_per_s = 12345 / (1.0 / 3.0);
  a.output_tokens_per_s = 1e-300;
  a.ttft_p50_ms = 12.345678901234567;
  a.ttft_p99_ms = std::nullopt;
  a.errors = 345;
  a.client_cancelled = 6;
  a.requests += 6;
  rows.push_back(a);
  IntervalRow b;  // all zeros, both ttft missing
  rows.push_back(b);
  IntervalRow c = a;
  c.elapsed_s = 123456.789;
  c.ttft_p99_ms = 1.7976931348623157e308;
  rows.push_back(c);
  auto back = parse_timeseries_csv(timeseries_csv(rows), "ts.csv");
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, rows);
  auto none = parse_timeseries_csv(timeseries_csv({}), "ts.csv");
  ASSERT_TRUE(none) << none.error();
  EXPECT_TRUE(none->empty());
}

TEST(Csv, RecordsCarryTheirLineNumbersAndSkipEmptyLines) {
  auto recs = csv_records("a,b\n\n\"x,y\",2\n", "f.csv");
  ASSERT_TRUE(recs) << recs.error();
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].line_no, 1u);
  EXPECT_EQ((*recs)[1].line_no, 3u);
  EXPECT_EQ((*recs)[1].fields, (std::vector<std::string>{"x,y", "2"}));
  auto bad = csv_records("a\n\"open\n", "f.csv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("f.csv:2: "), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace llmload
