#include "coordinator/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace llmload::coord {

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

Expected<std::vector<std::string>> read_key_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::vector<std::string> keys;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line) && lineno < 100'000) {
    ++lineno;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (!is_z85_key(line)) {
      return Error{path + ":" + std::to_string(lineno) +
                   ": not a CURVE key (40 Z85 characters, as `llmload keygen` writes)"};
    }
    keys.push_back(line);
  }
  if (keys.empty()) return Error{path + ": holds no key"};
  return keys;
}

Expected<std::string> write_file_mode(const std::string& path, const std::string& text,
                                      mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Error{path + ": exists already (refusing to overwrite a key)"};
    return Error{path + ": cannot create: " + std::strerror(errno)};
  }
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t off = 0;
  while (ok && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      off += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Error{path + ": cannot write: " + std::strerror(errno)};
  }
  return path;
}

}  // namespace

bool is_z85_key(std::string_view text) {
  if (text.size() != 40) return false;
  for (char c : text) {
    if (kZ85Alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

Expected<CurveKeyPair> generate_curve_keypair() {
  char pub[41] = {0};
  char sec[41] = {0};
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Error{std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                 " (libzmq built without CURVE?)"};
  }
  return CurveKeyPair{pub, sec};
}

Expected<std::string> curve_public_of(const std::string& secret_key) {
  if (!is_z85_key(secret_key)) return Error{"not a CURVE secret key"};
  char pub[41] = {0};
  if (zmq_curve_public(pub, secret_key.c_str()) != 0) {
    return Error{std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno())};
  }
  return std::string(pub);
}

Expected<std::string> write_curve_keypair(const std::string& prefix, const CurveKeyPair& keys) {
  if (prefix.empty()) return Error{"--out: an empty prefix"};
  const std::string key_path = prefix + ".key";
  const std::string pub_path = prefix + ".pub";
  struct stat st {};
  if (::stat(pub_path.c_str(), &st) == 0) {
    return Error{pub_path + ": exists already (refusing to overwrite a key)"};
  }
  auto k = write_file_mode(
      key_path,
      "# llmload CURVE secret key: keep it on this host, never share it\n" + keys.secret_key + "\n",
      0600);
  if (!k) return Error{k.error()};
  auto p = write_file_mode(
      pub_path, "# llmload CURVE public key: give it to the peer\n" + keys.public_key + "\n", 0644);
  if (!p) {
    ::unlink(key_path.c_str());
    return Error{p.error()};
  }
  return key_path + " " + pub_path;
}

Expected<CurveKeyPair> load_curve_keypair(const std::string& prefix) {
  const std::string key_path = prefix + ".key";
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) {
    return Error{key_path + ": cannot open: " + std::strerror(errno)};
  }
  if ((st.st_mode & 077) != 0) {
    return Error{key_path + ": readable by group or others; chmod 600 it"};
  }
  auto lines = read_key_lines(key_path);
  if (!lines) return Error{lines.error()};
  auto pub = curve_public_of(lines->front());
  if (!pub) return Error{key_path + ": " + pub.error()};
  return CurveKeyPair{pub.value(), lines->front()};
}

Expected<std::string> load_public_key(const std::string& path) {
  auto lines = read_key_lines(path);
  if (!lines) return Error{lines.error()};
  if (lines->size() != 1) return Error{path + ": holds more than one key"};
  return lines->front();
}

Expected<std::vector<std::string>> load_allow_list(const std::string& path) {
  return read_key_lines(path);
}

}  // namespace llmload::coord
