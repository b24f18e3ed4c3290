// The keys a native host trusts to sign model packs, from the places the command-line tools and
// cairn-server read them: hex keys given on the command line, trust files (one hex key a line,
// '#' comments) and $CAIRN_TRUSTED_KEYS (comma-separated).
//
//   CAIRN_ASSIGN_OR_RETURN(model::TrustStore trust,
//                          LoadTrustedKeys({.hex_keys = flags.trust, .files = flags.trust_files}));
//
// An empty result is an error (kFailedPrecondition): a pack is never loaded unverified, so a host
// without keys must say so instead of loading nothing silently. A malformed key names itself.
#ifndef CAIRN_CORE_RUNTIME_TRUSTED_KEYS_H_
#define CAIRN_CORE_RUNTIME_TRUSTED_KEYS_H_

#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/model/manifest.h"

namespace cairn::runtime {

inline constexpr char kTrustedKeysEnv[] = "CAIRN_TRUSTED_KEYS";

struct TrustedKeySources {
  std::vector<std::string> hex_keys;  // --trust HEX
  std::vector<std::string> files;     // --trust-file PATH
  bool read_env = true;               // also $CAIRN_TRUSTED_KEYS
};

Result<model::TrustStore> LoadTrustedKeys(const TrustedKeySources& sources);

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_TRUSTED_KEYS_H_
