#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/atomic_file.h"
#include "scratch_dir_test_util.h"

namespace llmload {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public testing_util::ScratchDirTest {
 protected:
  AtomicFile() : ScratchDirTest("atomic") {}
  std::set<std::string> entries() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.insert(e.path().filename().string());
    return out;
  }
};

TEST_F(AtomicFile, WritesAndReplacesWithoutLeavingTemporaries) {
  std::string path = (dir_ / "out.json").string();
  auto r = write_file_atomic(path, "first");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, path);
  EXPECT_EQ(read_file(path).value(), "first");
  std::string big(3 << 20, 'x');
  ASSERT_TRUE(write_file_atomic(path, big).ok());
  EXPECT_EQ(read_file(path).value(), big);
  ASSERT_TRUE(write_file_atomic(path, "").ok());
  EXPECT_EQ(read_file(path).value(), "");
  EXPECT_EQ(entries(), std::set<std::string>{"out.json"});
}

TEST_F(AtomicFile, AFailedWriteLeavesNoPartialFile) {
  // The target is a directory: the rename fails after the temporary file was written.
  fs::create_directories(dir_ / "taken");
  auto r = write_file_atomic((dir_ / "taken").string(), "data");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("taken"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("rename"), std::string::npos) << r.error();
  EXPECT_EQ(entries(), std::set<std::string>{"taken"});

  // A missing directory: nothing is created anywhere, the error names the path.
  r = write_file_atomic((dir_ / "missing" / "x.json").string(), "data");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("missing/x.json"), std::string::npos) << r.error();
  EXPECT_EQ(entries(), std::set<std::string>{"taken"});
}

TEST_F(AtomicFile, ReadFileLimitsAndErrors) {
  std::string path = (dir_ / "f").string();
  ASSERT_TRUE(write_file_atomic(path, std::string(100, 'a')).ok());
  EXPECT_TRUE(read_file(path, 100).ok());
  auto big = read_file(path, 99);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().find("larger than 99"), std::string::npos);
  auto missing = read_file((dir_ / "nope").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope"), std::string::npos);
  auto directory = read_file(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace llmload
