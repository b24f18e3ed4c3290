#include "core/runtime/trusted_keys.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cairn::runtime {

Result<model::TrustStore> LoadTrustedKeys(const TrustedKeySources& sources) {
  std::vector<std::string> keys = sources.hex_keys;
  if (const char* env = sources.read_env ? std::getenv(kTrustedKeysEnv) : nullptr) {
    std::stringstream ss(env);
    for (std::string k; std::getline(ss, k, ',');) {
      if (!k.empty()) keys.push_back(k);
    }
  }
  for (const std::string& path : sources.files) {
    std::ifstream in(path);
    if (!in) return Status(StatusCode::kNotFound, "cannot read trust file " + path);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#') keys.push_back(line);
    }
  }
  model::TrustStore trust;
  for (const std::string& k : keys) {
    Status s = trust.AddHex(k);
    if (!s.ok()) return s.WithContext("trusted key '" + k.substr(0, 16) + "…'");
  }
  if (trust.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "no trusted signing keys: pass --trust HEX, --trust-file PATH or set "
                  "$CAIRN_TRUSTED_KEYS; a model pack is never loaded unverified");
  }
  return trust;
}

}  // namespace cairn::runtime
