// Model packs: the signed manifest that says what a pack is, and the checks made before any
// byte of it is loaded.
//
// A pack is a directory (or a download) with manifest.json, manifest.sig and the files the
// manifest lists. The format is documented in models/README.md.
//
//   TrustStore trust;
//   trust.Add(kCairnModelKey);                           // built in at build time
//   CAIRN_ASSIGN_OR_RETURN(Manifest m, VerifyManifest(manifest_bytes, sig_bytes, trust));
//   CAIRN_RETURN_IF_ERROR(CheckLicence(m, workspace));   // non-commercial vs commercial
//   FileVerifier v(m.files[0]);                          // stream the file through it
//   v.Update(chunk); ... CAIRN_RETURN_IF_ERROR(v.Finish());
//
// Every check fails closed with an error naming the file or field: a tampered byte, an unknown
// signer, a path that would leave the pack, an absurd size.
#ifndef CAIRN_CORE_MODEL_MANIFEST_H_
#define CAIRN_CORE_MODEL_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/crypto/hash.h"

namespace cairn::model {

inline constexpr char kManifestSchema[] = "cairn.model-manifest/1";
inline constexpr uint64_t kMaxModelFileBytes = 4ull << 30;  // 4 GiB
inline constexpr size_t kMaxManifestBytes = 1 << 20;

struct Licence {
  std::string spdx;  // e.g. "Apache-2.0", "CC-BY-NC-4.0", "LicenseRef-unknown"
  bool commercial_use = false;
  std::string attribution;
};

struct ModelFile {
  std::string name;  // a plain file name: [A-Za-z0-9._-], no paths
  uint64_t size = 0;
  std::string blake2b;  // BLAKE2b-256, hex
};

struct TensorSpec {
  std::string name;
  std::string type;  // "float32", "int64", ...
  std::vector<std::string> shape;  // dimension sizes or symbolic names ("batch", "seq")
};

struct Variant {
  std::string name;       // "native-fp32", "wasm-int8", "webgpu-fp16"
  std::string runtime;    // "ort-native" | "ort-web"
  std::string precision;  // "fp32" | "fp16" | "int8" | "q4"
  std::vector<std::string> execution_providers;  // in preference order: "webgpu", "wasm", "cpu"
  std::string file;  // one of the manifest's files
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// Recommended sampling for a quality preset ("low", "preview", "final").
struct Preset {
  float temperature = 0.7f;  // 0: greedy
  int top_k = 40;            // 0: off
  float top_p = 0.9f;        // 1: off
  float repetition_penalty = 1.1f;
  int max_new_tokens = 160;
};

struct Manifest {
  std::string id;
  std::string version;
  std::string task;  // caption-lm | embedding | image-safety | image-tags
  Licence licence;
  std::vector<ModelFile> files;
  std::vector<Variant> variants;
  std::string tokenizer_file;  // empty if the task needs none
  std::string chat_format;     // "chatml" | "llama3" | "none"
  // Word-vocabulary text input (embedding packs, models/README.md): the vocabulary file (one of
  // files) and the rule that splits text into its words ("cairn-words/1"); empty if none.
  std::string text_vocab;
  std::string text_rule;
  // Class names of image-safety and image-tags models, in output order; empty if none.
  std::vector<std::string> labels;
  std::string description;
  // Tokens the model attends to, prompt and output together (learned positions, or what it was
  // trained on); 0: not stated. Generation never runs past it.
  int64_t context_length = 0;
  std::map<std::string, Preset> presets;  // by name; may be empty
  std::string signer;  // key id of the key that signed it (set by VerifyManifest)

  const ModelFile* FindFile(std::string_view name) const;
  const Variant* FindVariant(std::string_view name) const;
  // The named preset, else the manifest's "preview", else built-in defaults for the name.
  Preset PresetOrDefault(std::string_view name) const;
};

// Ed25519 public keys trusted to sign model packs, by key id (the first 8 bytes of the
// BLAKE2b-256 of the key, hex).
class TrustStore {
 public:
  Status Add(ByteView public_key);
  Status AddHex(std::string_view public_key_hex);
  const Bytes* Find(std::string_view key_id) const;
  bool empty() const { return keys_.empty(); }
  static std::string KeyId(ByteView public_key);

 private:
  std::map<std::string, Bytes> keys_;
};

// Parses and validates manifest JSON without checking a signature (for the recipe and tests).
Result<Manifest> ParseManifest(std::string_view json);

// The signature file: {"key_id": "...", "signature": "<hex of the 64-byte Ed25519 signature
// over the exact manifest bytes>"}.
Result<Manifest> VerifyManifest(ByteView manifest_json, ByteView signature_file,
                                const TrustStore& trust);
std::string SignatureFileJson(std::string_view key_id, ByteView signature);

struct Workspace {
  bool commercial = false;
};
// kPermissionDenied, with the reason, for a non-commercial model in a commercial workspace.
Status CheckLicence(const Manifest& manifest, const Workspace& workspace);

// Streams a file's bytes through its manifest entry: size and BLAKE2b-256 must both match.
// The manifest's checks on a file's bytes, for callers that count and hash them themselves (a
// download streamed into the blob store, whose content address is the file's BLAKE2b): each
// returns kCorruption naming the file and what is wrong, as FileVerifier does.
Status CheckFileGrowth(const ModelFile& file, uint64_t seen);  // more bytes than listed
Status CheckFileSize(const ModelFile& file, uint64_t seen);    // not exactly the size listed
Status FileDigestMismatch(const ModelFile& file);              // the error for a wrong BLAKE2b

class FileVerifier {
 public:
  explicit FileVerifier(const ModelFile& file);
  // Fails early (kCorruption) once more bytes arrive than the manifest allows.
  Status Update(ByteView data);
  Status Finish();
  uint64_t bytes_seen() const { return seen_; }

  // Where it is, as bytes (the bytes seen and the running hash), to go on after a restart (a
  // download resumed after a reload): Restore(file, Save()) verifies on as this one would.
  // Restore refuses state saved by another build or for more bytes than `file` has.
  Result<Bytes> Save() const;
  static Result<FileVerifier> Restore(const ModelFile& file, ByteView saved);

 private:
  FileVerifier(const ModelFile& file, crypto::Blake2b hash, uint64_t seen);
  ModelFile file_;
  crypto::Blake2b hash_;
  uint64_t seen_ = 0;
};

}  // namespace cairn::model

#endif  // CAIRN_CORE_MODEL_MANIFEST_H_
