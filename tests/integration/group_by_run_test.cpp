// Metrics per key in a real run: a JSONL dataset whose rows carry labels (task, agent) and
// `group_by: [model, task]` give one group per model × task in summary.json and summary.csv,
// each request in the group of its own prompt's row (requests.jsonl), assertions selecting a
// group by a row label, and the groups adding up to the run. Two local workers, so the labels
// cross the wire.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/process_util.h"

namespace {

namespace fs = std::filesystem;
using llmload_test::fresh_dir;
using llmload_test::run_llmload;
using llmload_test::slurp;

const std::string kDataset =
    std::string(LLMLOAD_SOURCE_DIR) + "/tests/data/scenarios/datasets/labelled.jsonl";
// The dataset's rows in order (sampling: sequential, so prompt i is row i % 4): their task.
const std::vector<std::string> kTaskOfRow = {"summarize", "write", "math", ""};

TEST(GroupByRun, RowLabelsSplitTheResultsAsGroupByAsks) {
  const fs::path d = fresh_dir("llmload_group_by_run");
  std::ofstream(d / "s.yaml") << "name: per-key\n"
                              << "targets:\n"
                              << "  - {name: a, url: mock, model: m1}\n"
                              << "  - {name: b, url: mock, model: m2}\n"
                              << "load: {concurrency: 4, requests: 80}\n"
                              << "prompts: {source: jsonl, file: " << kDataset
                              << ", sampling: sequential}\n"
                              << "output: {max_tokens: 4}\n"
                              << "group_by: [model, task]\n"
                              << "tags: {team: search}\n";
  const fs::path out = d / "out";
  const int code = run_llmload("run " + (d / "s.yaml").string() + " --workers 2 --out " +
                                   out.string() + " --requests-jsonl " +
                                   (d / "requests.jsonl").string() +
                                   " --assert 'task=math: error_rate < 1%'",
                               (d / "log").string());
  const std::string log = slurp((d / "log").string());
  ASSERT_EQ(code, 0) << log;

  const auto j = nlohmann::json::parse(slurp((out / "summary.json").string()));
  int64_t sum = 0;
  std::map<std::string, int64_t> by_task;
  for (const auto& g : j["groups"]) {
    const auto& labels = g["labels"];
    EXPECT_FALSE(labels.contains("target")) << labels.dump();  // not in group_by
    EXPECT_FALSE(labels.contains("agent")) << labels.dump();   // a row label not in group_by
    EXPECT_EQ(labels.value("team", ""), "search");             // tags stay
    ASSERT_TRUE(labels.contains("model"));
    const int64_t n = g["totals"]["requests"].get<int64_t>();
    sum += n;
    by_task[labels.value("task", "")] += n;
  }
  EXPECT_EQ(sum, 80);
  EXPECT_EQ(j["totals"]["requests"], 80);
  // Every task (and the unlabelled row) got requests; by model as well.
  for (const std::string& t : kTaskOfRow) EXPECT_GT(by_task[t], 0) << "task '" << t << "'";
  EXPECT_EQ(j["groups"].size(), 8u) << j["groups"].dump();
  EXPECT_TRUE(j["assertions"][0]["passed"].get<bool>()) << j["assertions"].dump();

  // Each request is in the group of its prompt's row.
  std::ifstream rows(d / "requests.jsonl");
  std::string line;
  std::map<std::string, int64_t> rows_by_task;
  int64_t n = 0;
  while (std::getline(rows, line)) {
    const auto r = nlohmann::json::parse(line);
    const std::string want = kTaskOfRow[size_t(r["prompt"].get<int64_t>() % 4)];
    EXPECT_EQ(r["labels"].value("task", ""), want) << line;
    if (!want.empty()) {
      EXPECT_NE(r["group"].get<std::string>().find("task=" + want), std::string::npos) << line;
    }
    ++rows_by_task[want];
    ++n;
  }
  EXPECT_EQ(n, 80);
  EXPECT_EQ(rows_by_task, by_task);

  // summary.csv: a row per group and metric, the group named by its labels.
  const std::string csv = slurp((out / "summary.csv").string());
  EXPECT_NE(csv.find("\"model=m2,task=math,team=search\",ttft"), std::string::npos) << csv;
}

TEST(GroupByRun, ANameThatIsNoLabelIsAConfigurationErrorBeforeLoad) {
  const fs::path d = fresh_dir("llmload_group_by_bad");
  std::ofstream(d / "s.yaml") << "target: {url: mock, model: m1}\n"
                              << "load: {concurrency: 1, requests: 4}\n"
                              << "prompts: {source: jsonl, file: " << kDataset << "}\n"
                              << "group_by: [model, tsak]\n";
  const int code = run_llmload("run " + (d / "s.yaml").string() + " --out " +
                                   (d / "out").string(),
                               (d / "log").string());
  const std::string log = slurp((d / "log").string());
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("group_by: 'tsak' is not a label of this run"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(d / "out" / "summary.json"));

  const int vcode = run_llmload("validate " + (d / "s.yaml").string(), (d / "vlog").string());
  EXPECT_EQ(vcode, 2);
  EXPECT_NE(slurp((d / "vlog").string()).find("'tsak'"), std::string::npos);
}

}  // namespace
