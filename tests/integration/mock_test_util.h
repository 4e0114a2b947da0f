// Test helpers for the mock server's integration tests: run `llmload mock` as a child process
// (killed and reaped in the destructor, even when a test fails) and a plain blocking socket
// client that reads one HTTP/1.1 response, de-chunking it and timing each chunk.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace mocktest {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::string temp_path(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/llmload-mocktest-" + std::to_string(getpid()) +
         "-" + name;
}

// `llmload mock ARGS...` with --port 0; reads the URL from its first stdout line.
class MockProcess {
 public:
  explicit MockProcess(std::vector<std::string> args) {
    stderr_path_ = temp_path("stderr-" + std::to_string(counter()++));
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) dup2(err, 2);
      close(out[0]);
      std::vector<std::string> full = {LLMLOAD_BINARY, "mock", "--port", "0"};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
    // First line, within 10 s.
    std::string line;
    int64_t deadline = now_ns() + 10'000'000'000;
    while (line.find('\n') == std::string::npos && now_ns() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[512];
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, size_t(n));
    }
    first_lines_ = line;
    auto pos = line.find("http");
    if (pos != std::string::npos) {
      url_ = line.substr(pos, line.find('\n', pos) - pos);
      port_ = std::atoi(url_.substr(url_.rfind(':') + 1).c_str());
    }
  }
  ~MockProcess() { stop(); }
  MockProcess(const MockProcess&) = delete;
  MockProcess& operator=(const MockProcess&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  const std::string& url() const { return url_; }
  const std::string& first_lines() const { return first_lines_; }
  // Reads more stdout lines (e.g. the certificate line) that arrived within `ms`.
  std::string more_stdout(int ms) {
    std::string s;
    pollfd p{out_fd_, POLLIN, 0};
    while (poll(&p, 1, ms) > 0) {
      char buf[512];
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      s.append(buf, size_t(n));
      ms = 50;
    }
    return s;
  }
  // SIGTERM, then waits up to 10 s (SIGKILL after). Returns the exit status (or -1).
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int st = 0;
    int64_t deadline = now_ns() + 10'000'000'000;
    pid_t r = 0;
    while ((r = waitpid(pid_, &st, WNOHANG)) == 0 && now_ns() < deadline) usleep(10'000);
    if (r == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
      status_ = -1;
    } else {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    pid_ = -1;
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
    return status_;
  }
  std::string stderr_text() const {
    std::ifstream f(stderr_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int status_ = -1;
  std::string url_, first_lines_, stderr_path_;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // de-chunked
  std::vector<std::string> chunks;             // each HTTP chunk's payload
  std::vector<int64_t> chunk_ns;               // when each chunk was fully read
  int64_t sent_ns = 0, headers_ns = 0, done_ns = 0;
  bool complete = false;  // terminator (0-chunk) or Content-Length reached
  std::string error;      // "", "eof", "reset", "timeout", "protocol"
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking loopback client: one request at a time on one connection.
class Client {
 public:
  explicit Client(int port, int timeout_ms = 10000) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    set_timeout(timeout_ms);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  void set_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += size_t(n);
    }
    return true;
  }
  // Reads one response. Stops at its end, at EOF/reset/timeout (error says which).
  Response read_response() {
    Response r;
    std::string line;
    if (!read_line(line, r)) return r;
    if (line.rfind("HTTP/1.1 ", 0) != 0) {
      r.error = "protocol";
      return r;
    }
    r.status = std::atoi(line.c_str() + 9);
    while (true) {
      if (!read_line(line, r)) return r;
      if (line.empty()) break;
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value[0] == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    r.headers_ns = now_ns();
    if (r.header("transfer-encoding") == "chunked") {
      while (true) {
        if (!read_line(line, r)) return r;
        size_t size = std::strtoul(line.c_str(), nullptr, 16);
        if (size == 0) {
          if (!read_line(line, r)) return r;
          r.complete = true;
          break;
        }
        std::string data;
        if (!read_n(size + 2, data, r)) return r;
        data.resize(size);
        r.body += data;
        r.chunks.push_back(data);
        r.chunk_ns.push_back(now_ns());
      }
    } else {
      size_t len = std::strtoul(r.header("content-length").c_str(), nullptr, 10);
      if (!read_n(len, r.body, r)) return r;
      r.complete = true;
    }
    r.done_ns = now_ns();
    return r;
  }
  Response request(const std::string& raw) {
    int64_t t = now_ns();
    if (!send_all(raw)) {
      Response r;
      r.error = "send";
      return r;
    }
    Response r = read_response();
    r.sent_ns = t;
    return r;
  }
  // True when the server closed the connection (EOF) within the timeout.
  bool wait_eof() {
    if (!buf_.empty()) return false;
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0;
  }

 private:
  bool fill(Response& r) {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, size_t(n));
      return true;
    }
    if (n == 0)
      r.error = "eof";
    else if (errno == ECONNRESET)
      r.error = "reset";
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
      r.error = "timeout";
    else
      r.error = std::strerror(errno);
    return false;
  }
  bool read_line(std::string& line, Response& r) {
    while (true) {
      auto pos = buf_.find("\r\n");
      if (pos != std::string::npos) {
        line = buf_.substr(0, pos);
        buf_.erase(0, pos + 2);
        return true;
      }
      if (!fill(r)) return false;
    }
  }
  bool read_n(size_t n, std::string& out, Response& r) {
    while (buf_.size() < n)
      if (!fill(r)) return false;
    out.append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

inline std::string post(const std::string& path, const std::string& body,
                        const std::string& extra_headers = "", bool keep_alive = true) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n" + body;
}

inline std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// The `data: ` payloads of an SSE body, in order.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
    pos = end + 1;
  }
  return out;
}

inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

inline int count_words(const std::string& s) {
  int n = 0;
  bool in = false;
  for (char c : s) {
    bool sp = std::isspace(static_cast<unsigned char>(c));
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

}  // namespace mocktest
