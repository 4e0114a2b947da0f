// llmload keygen --out PREFIX: a CURVE key pair for a coordinator or a worker.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "coordinator/curve_keys.h"

namespace llmload::cli {

void register_keygen(CLI::App& app, int& exit_code) {
  CLI::App* sub = app.add_subcommand(
      "keygen", "a CURVE key pair for a coordinator or worker: PREFIX.key (secret) + PREFIX.pub");
  auto prefix = std::make_shared<std::string>();
  sub->add_option("--out", *prefix, "path prefix of the two files")->required();
  sub->callback([&exit_code, prefix] {
    auto keys = coord::generate_curve_keypair();
    if (!keys) {
      std::fprintf(stderr, "llmload keygen: %s\n", keys.error().c_str());
      exit_code = kExitInternal;
      return;
    }
    auto written = coord::write_curve_keypair(*prefix, keys.value());
    if (!written) {
      std::fprintf(stderr, "llmload keygen: %s\n", written.error().c_str());
      exit_code = kExitUsage;
      return;
    }
    std::printf("wrote %s.key (secret, mode 0600) and %s.pub (public: %s)\n", prefix->c_str(),
                prefix->c_str(), keys->public_key.c_str());
    exit_code = kExitOk;
  });
}

}  // namespace llmload::cli
