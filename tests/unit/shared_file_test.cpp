// The files a worker reads from the coordinator's paths (common/shared_file.h): described by
// size and SHA-256, checked on the worker with errors naming the field, the file and what
// differs; and a dataset read on the worker: every entry, in file order, taken by run-wide
// request number (dataset_entry) so the first `entries` numbers are every entry once.
#include "common/shared_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "common/prompts.h"
#include "tests/unit/scratch_dir_test_util.h"

namespace llmload {
namespace {

class SharedFileTest : public testing_util::ScratchDirTest {
 protected:
  SharedFileTest() : ScratchDirTest("shared-file") {}
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

TEST_F(SharedFileTest, DescribesSizeAndSha256) {
  const std::string path = write("abc.txt", "abc");
  auto d = describe_shared_file("prompts.file", path);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->field, "prompts.file");
  EXPECT_EQ(d->path, path);
  EXPECT_EQ(d->size, 3);
  // FIPS 180-2's test vector for "abc".
  EXPECT_EQ(d->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(SharedFileTest, MissingTooLargeAndChangedFilesAreNamed) {
  const std::string path = write("p.jsonl", "\"one\"\n\"two\"\n");
  auto d = describe_shared_file("prompts.file", path);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(check_shared_file(*d), std::nullopt);

  // Too large: an error before anything is sent.
  auto big = describe_shared_file("load.trace.file", path, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().find("load.trace.file " + path + ": larger than"), std::string::npos)
      << big.error();

  // Same size, other bytes: the hash differs.
  write("p.jsonl", "\"one\"\n\"twx\"\n");
  auto why = check_shared_file(*d);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("prompts.file " + path + ": content differs"), std::string::npos) << *why;

  // Another size.
  write("p.jsonl", "\"one\"\n");
  why = check_shared_file(*d);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("size differs: 6 bytes on this worker, 12 at the coordinator"),
            std::string::npos)
      << *why;

  // Gone.
  std::filesystem::remove(path);
  why = check_shared_file(*d);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("prompts.file " + path + ": cannot open"), std::string::npos) << *why;
  EXPECT_NE(why->find("on this worker"), std::string::npos) << *why;
}

TEST_F(SharedFileTest, SharedFilesNameTheDatasetTraceAndTokenizer) {
  Scenario s;
  EXPECT_FALSE(prompts_read_on_worker(s));  // synthetic: written on the worker, no file
  auto none = shared_files(s);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  s.prompts.kind = PromptSourceKind::kJsonl;
  s.prompts.file = write("d.jsonl", "\"x\"\n");
  s.prompts.tokenizer = write("tok.json", "{}");
  EXPECT_TRUE(prompts_read_on_worker(s));
  auto files = shared_files(s);
  ASSERT_TRUE(files.ok()) << files.error();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].field, "prompts.file");
  EXPECT_EQ((*files)[1].field, "prompts.tokenizer");

  // A trace is the prompts: the dataset is not read.
  s.load.trace = TraceSpec{};
  s.load.trace->file = write("t.jsonl", "{}\n");
  EXPECT_FALSE(prompts_read_on_worker(s));
  files = shared_files(s);
  ASSERT_TRUE(files.ok()) << files.error();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].field, "load.trace.file");

  // Inline conversations have no file; a conversations file is read on the worker.
  s.load.trace.reset();
  s.prompts.kind = PromptSourceKind::kConversations;
  s.prompts.file.clear();
  EXPECT_FALSE(prompts_read_on_worker(s));
  s.prompts.file = write("c.jsonl", "[{\"role\":\"user\",\"content\":\"hi\"}]\n");
  EXPECT_TRUE(prompts_read_on_worker(s));

  s.prompts.file = (dir_ / "absent.jsonl").string();
  auto missing = shared_files(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("prompts.file"), std::string::npos) << missing.error();
}

TEST(DatasetEntry, ShuffleAndSequentialVisitEveryEntryOncePerPass) {
  for (int64_t entries : {1, 2, 3, 7, 1000, 5000}) {
    for (Sampling mode : {Sampling::kShuffle, Sampling::kSequential}) {
      std::set<int64_t> first, second;
      std::vector<int64_t> order;
      for (int64_t n = 0; n < entries; ++n) {
        const int64_t e = dataset_entry(mode, entries, n, 42);
        ASSERT_GE(e, 0);
        ASSERT_LT(e, entries);
        first.insert(e);
        order.push_back(e);
      }
      bool same_order = true;
      for (int64_t n = entries; n < 2 * entries; ++n) {
        const int64_t e = dataset_entry(mode, entries, n, 42);
        second.insert(e);
        same_order = same_order && e == order[size_t(n - entries)];
      }
      EXPECT_EQ(int64_t(first.size()), entries) << entries;
      EXPECT_EQ(int64_t(second.size()), entries) << entries;
      // Shuffle: each pass its own order (with enough entries to tell).
      if (mode == Sampling::kShuffle && entries >= 7) EXPECT_FALSE(same_order) << entries;
      if (mode == Sampling::kSequential) EXPECT_TRUE(same_order);
    }
  }
  // Another seed, another order; the same seed, the same.
  EXPECT_EQ(dataset_entry(Sampling::kShuffle, 1000, 5, 1),
            dataset_entry(Sampling::kShuffle, 1000, 5, 1));
  int differ = 0;
  for (int64_t n = 0; n < 100; ++n)
    differ += dataset_entry(Sampling::kShuffle, 1000, n, 1) !=
              dataset_entry(Sampling::kShuffle, 1000, n, 2);
  EXPECT_GT(differ, 90);
}

TEST(DatasetEntry, RandomDrawsWithReplacementOverTheWholeDataset) {
  std::set<int64_t> seen;
  for (int64_t n = 0; n < 100'000; ++n) {
    const int64_t e = dataset_entry(Sampling::kRandom, 5000, n, 9);
    ASSERT_GE(e, 0);
    ASSERT_LT(e, 5000);
    seen.insert(e);
  }
  EXPECT_EQ(seen.size(), 5000u);  // every entry reachable (no cap on what a run can send)
  EXPECT_EQ(dataset_entry(Sampling::kRandom, 5000, 17, 9),
            dataset_entry(Sampling::kRandom, 5000, 17, 9));
}

TEST_F(SharedFileTest, DatasetPromptsAreEveryEntryInFileOrder) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "{\"prompt\": \"entry " + std::to_string(i) + "\"}\n";
  Scenario s;
  s.prompts.kind = PromptSourceKind::kJsonl;
  s.prompts.file = write("big.jsonl", text);
  s.output.max_tokens = Distribution::fixed(7);
  auto ps = dataset_prompts(s);
  ASSERT_TRUE(ps.ok()) << ps.error();
  ASSERT_EQ(ps->size(), 3000u);  // past the 2,048 a RUN could ship
  for (size_t i = 0; i < ps->size(); ++i) {
    ASSERT_EQ((*ps)[i].index, int64_t(i));
    ASSERT_EQ((*ps)[i].source_index, int64_t(i));
    ASSERT_EQ((*ps)[i].text, "entry " + std::to_string(i));
    ASSERT_EQ((*ps)[i].max_tokens, 7);
  }
  // run_prompts: the whole dataset for a file, the sampled list otherwise.
  auto run = run_prompts(s);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->size(), 3000u);
  // Too large: refused before it is parsed (a sparse file: no disk used).
  s.prompts.file = write("huge.jsonl", "\"x\"\n");
  std::filesystem::resize_file(s.prompts.file, uint64_t(kSharedFileMaxBytes) + 1);
  auto huge = dataset_prompts(s);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().find("prompts.file " + s.prompts.file + ": 1024 MiB, larger than"),
            std::string::npos)
      << huge.error();
  s.prompts.file = write("bad.jsonl", "\"fine\"\n{\"prompt\": 3}\n");
  auto bad = dataset_prompts(s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("bad.jsonl:2:"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace llmload
