// A test fixture with a fresh, empty directory per test (named after the test, removed after it).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace testing_util {

class ScratchDirTest : public ::testing::Test {
 protected:
  explicit ScratchDirTest(std::string label) : label_(std::move(label)) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("llmload-" + label_ + "-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;

 private:
  std::string label_;
};

}  // namespace testing_util
