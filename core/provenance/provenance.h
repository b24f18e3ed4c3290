// Provenance: what produced a generated asset. Stored with every asset and carried by exports.
#ifndef CAIRN_CORE_PROVENANCE_PROVENANCE_H_
#define CAIRN_CORE_PROVENANCE_PROVENANCE_H_

#include <cstdint>
#include <string>

namespace cairn {

struct Provenance {
  std::string model_id;        // e.g. "cairn-caption-starter"
  std::string model_version;   // the manifest's version
  std::string model_checksum;  // BLAKE2b-256 hex of the model file that ran
  std::string quantization;    // "fp32", "int8", "fp16"
  std::string backend;         // the backend that actually ran: "ort-native-cpu", "ort-web-wasm"...
  std::string tier;            // "device", "edge" or "cloud"
  std::string preset;          // "low", "preview" or "final"
  std::string prompt_schema;   // the prompt format's version, e.g. "cairn.prompt/1"
  uint64_t seed = 0;           // the sampling seed (greedy presets ignore it)

  friend bool operator==(const Provenance&, const Provenance&) = default;
};

}  // namespace cairn

#endif  // CAIRN_CORE_PROVENANCE_PROVENANCE_H_
