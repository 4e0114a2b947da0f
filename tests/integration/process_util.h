// Helpers for integration tests that run the llmload binary as real processes: spawn with
// output to a log file, bounded waits for a line or an exit, reading files back. Every wait is
// bounded in time; a Proc still running when it goes out of scope is SIGKILLed and reaped.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace llmload_test {

inline const std::string kQuickstart =
    std::string(LLMLOAD_SOURCE_DIR) + "/scenarios/quickstart.yaml";

// Nanoseconds on CLOCK_MONOTONIC (the clock the mock's truth log and our timings use).
inline int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The port of a "tcp://host:port" endpoint.
inline int port_of(const std::string& endpoint) {
  return std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str());
}

struct Proc {
  pid_t pid = -1;
  std::string out;  // stdout+stderr file
  Proc() = default;
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;
  ~Proc() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// A fresh directory for this test process (under the system temp dir).
inline std::string test_dir(const std::string& label) {
  auto p = std::filesystem::temp_directory_path() /
           ("llmload-" + label + "-" + std::to_string(::getpid()));
  // The first call of this process empties it: a folder of that name is an earlier process's
  // whose pid this one reuses (a key left there made `keygen` refuse to overwrite it). Later
  // calls with the same label return the same folder, as it is.
  static std::set<std::string> made;
  if (made.insert(p.string()).second) std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// Forks; the child sends stdout and stderr to `log_path`, adds `env` ("NAME=value") to its
// environment and execs `file` (looked up in PATH when it has no slash) with `argv`.
inline void spawn_exec(Proc& p, const std::string& file, const std::vector<std::string>& argv,
                       const std::string& log_path, const std::vector<std::string>& env = {}) {
  p.out = log_path;
  // Emptied before the fork: a wait_for() right after must never read an earlier run's lines.
  { std::ofstream truncate(log_path, std::ios::trunc); }
  p.pid = ::fork();
  if (p.pid == 0) {
    FILE* f = std::freopen(p.out.c_str(), "w", stdout);
    (void)f;
    ::dup2(::fileno(stdout), 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(file.c_str(), args.data());
    ::_exit(127);
  }
}

// Starts LLMLOAD_BINARY with `args` (args[0] is argv[0]); stdout and stderr go to `log_path`.
// `env` entries ("NAME=value") are added to the child's environment.
inline void spawn(Proc& p, const std::vector<std::string>& args, const std::string& log_path,
                  const std::vector<std::string>& env = {}) {
  spawn_exec(p, LLMLOAD_BINARY, args, log_path, env);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits (bounded) for `re` in the process's output; returns capture group 1 ("" on timeout).
inline std::string wait_for(const Proc& p, const std::string& re, int seconds = 20) {
  std::regex r(re);
  for (int i = 0; i < seconds * 20; ++i) {
    std::smatch m;
    std::string text = slurp(p.out);
    if (std::regex_search(text, m, r)) return m.size() > 1 ? m[1].str() : m[0].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// The exit code (128 + signal when killed), or -1 if still running after `seconds`.
inline int wait_exit(Proc& p, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
      p.pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

// Runs the binary to completion (bounded); returns {exit code, output}.
inline std::pair<int, std::string> run_to_end(const std::vector<std::string>& args,
                                              const std::string& log_path, int seconds = 60) {
  Proc p;
  spawn(p, args, log_path);
  int code = wait_exit(p, seconds);
  return {code, slurp(log_path)};
}

// Runs a shell command line to its end; its exit code, -1 when it did not exit normally.
inline int shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs LLMLOAD_BINARY with `args` (shell words: quote them as a shell would) to its end, stdout
// and stderr to `log_path`; its exit code, -1 when it did not exit normally.
inline int run_llmload(const std::string& args, const std::string& log_path) {
  return shell(std::string(LLMLOAD_BINARY) + " " + args + " > " + log_path + " 2>&1");
}

// A loopback TCP port nothing listens on now (bound, read, released); -1 on failure.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A fresh, empty directory `name` under the test framework's temp dir (::testing::TempDir()).
inline std::filesystem::path fresh_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A mock on an ephemeral loopback port; returns its base URL ("" on failure).
inline std::string start_mock(Proc& mock, const std::string& log_path,
                              std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"llmload", "mock", "--port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  spawn(mock, args, log_path);
  return wait_for(mock, "(http://127\\.0\\.0\\.1:[0-9]+)");
}

}  // namespace llmload_test
