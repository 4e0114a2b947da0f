// CURVE key files (`llmload keygen --out PREFIX`, docs/distributed.md).
//
//   PREFIX.key  the secret key (Z85, 40 characters), mode 0600: stays on its host
//   PREFIX.pub  the public key (Z85, 40 characters): handed to the peer
//
// A file may hold comment lines starting with '#'; the key is the first other non-empty line.
// An allow-list file holds any number of public keys, one per line (comments allowed), so the
// coordinator's list of workers is one file or the workers' .pub files themselves.
// Error messages name the file; they never print a secret key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace llmload::coord {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// 40 characters of the Z85 alphabet (a 32-byte CURVE key).
bool is_z85_key(std::string_view text);

Expected<CurveKeyPair> generate_curve_keypair();
// Derives the public key from a secret one.
Expected<std::string> curve_public_of(const std::string& secret_key);

// Writes PREFIX.key (0600) and PREFIX.pub; refuses to overwrite an existing key file.
// Returns the two paths, "PREFIX.key PREFIX.pub".
Expected<std::string> write_curve_keypair(const std::string& prefix, const CurveKeyPair& keys);
// Reads PREFIX.key (refused if group/other can read it) and derives the public key.
Expected<CurveKeyPair> load_curve_keypair(const std::string& prefix);
// Reads one public key (a .pub file).
Expected<std::string> load_public_key(const std::string& path);
// Reads every public key in the file (at least one).
Expected<std::vector<std::string>> load_allow_list(const std::string& path);

}  // namespace llmload::coord
