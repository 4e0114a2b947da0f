#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace llmload {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Expected<std::string> write_file_atomic(const std::string& path, std::string_view content) {
  static std::atomic<uint64_t> sequence{0};
  // Same directory as the target, so rename() is atomic (same file system). The name is unique
  // per process and call, and O_EXCL refuses to follow anything already there.
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(sequence.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error{path + ": cannot create temporary file: " + errno_text()};
  auto fail = [&](const char* step) -> Expected<std::string> {
    std::string message = path + ": " + step + ": " + errno_text();
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Error{message};
  };
  if (!write_all(fd, content)) return fail("write failed");
  if (::fsync(fd) != 0) return fail("fsync failed");
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) return fail("close failed");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename failed");
  // Make the rename itself durable. Best effort: some file systems refuse fsync on directories.
  int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return path;
}

Expected<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + errno_text()};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{path + ": not a regular file"};
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string message = path + ": read failed: " + errno_text();
      ::close(fd);
      return Error{message};
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return Error{path + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace llmload
