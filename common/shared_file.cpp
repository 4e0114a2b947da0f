#include "common/shared_file.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace llmload {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string hex(const unsigned char* p, unsigned n) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size_t(n) * 2);
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string mib(int64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

Expected<SharedFile> describe_shared_file(const std::string& field, const std::string& path,
                                          int64_t max_bytes) {
  const std::string at = field + " " + path + ": ";
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return Error{at + "cannot open (" + std::strerror(errno) + ")"};
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Error{at + "cannot start SHA-256"};
  SharedFile out{field, path, 0, ""};
  std::vector<unsigned char> buf(size_t{1} << 20);
  for (;;) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      out.size += int64_t(n);
      if (out.size > max_bytes)
        return Error{at + "larger than " + mib(max_bytes) +
                     " (the most a worker reads from a shared path)"};
      EVP_DigestUpdate(ctx.get(), buf.data(), n);
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) return Error{at + "read error (" + std::strerror(errno) + ")"};
      break;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return Error{at + "cannot finish SHA-256"};
  out.sha256 = hex(md, len);
  return out;
}

std::optional<std::string> check_shared_file(const SharedFile& f, int64_t max_bytes) {
  const std::string at = f.field + " " + f.path + ": ";
  const std::string why = " (the path must hold the same file on every machine)";
  auto here = describe_shared_file(f.field, f.path, max_bytes);
  if (!here) {
    // "cannot open" on a worker: the shared path is not mounted or the file is missing there.
    return here.error() + " on this worker" + why;
  }
  if (here->size != f.size) {
    return at + "size differs: " + std::to_string(here->size) + " bytes on this worker, " +
           std::to_string(f.size) + " at the coordinator" + why;
  }
  if (here->sha256 != f.sha256) {
    return at + "content differs (SHA-256 " + here->sha256.substr(0, 12) + "... on this worker, " +
           f.sha256.substr(0, 12) + "... at the coordinator)" + why;
  }
  return std::nullopt;
}

bool prompts_read_on_worker(const Scenario& s) {
  if (s.load.trace) return false;  // trace replay: the trace's rows are the prompts
  switch (s.prompts.kind) {
    case PromptSourceKind::kJsonl:
    case PromptSourceKind::kShareGpt:
      return true;
    case PromptSourceKind::kConversations:
      return !s.prompts.file.empty();
    default:
      return false;
  }
}

Expected<std::vector<SharedFile>> shared_files(const Scenario& s) {
  std::vector<SharedFile> out;
  auto add = [&](const std::string& field, const std::string& path) -> std::optional<Error> {
    auto d = describe_shared_file(field, path);
    if (!d) return Error{d.error()};
    out.push_back(std::move(d.value()));
    return std::nullopt;
  };
  if (prompts_read_on_worker(s)) {
    if (auto e = add("prompts.file", s.prompts.file)) return *e;
  }
  if (s.load.trace) {
    if (auto e = add("load.trace.file", s.load.trace->file)) return *e;
  }
  if (!s.prompts.tokenizer.empty()) {
    if (auto e = add("prompts.tokenizer", s.prompts.tokenizer)) return *e;
  }
  return out;
}

}  // namespace llmload
