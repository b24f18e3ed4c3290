// Loading a model pack from a directory (the native host; the browser reads packs from the
// vault's blob store). Nothing of a pack is used before it is verified: the manifest's
// signature against the trust store, the licence against the workspace, then every file the
// chosen variant needs, byte for byte against the manifest's sizes and hashes, as it is read
// into memory. The model is then built from those verified bytes, never re-read from disk.
//
//   CAIRN_ASSIGN_OR_RETURN(LoadedPack pack,
//                          LoadPackDir("packs/tiny-gpt2", trust, workspace, "native-fp32"));
//   ByteView onnx = pack.File(pack.variant().file);
#ifndef CAIRN_CORE_RUNTIME_PACK_DIR_H_
#define CAIRN_CORE_RUNTIME_PACK_DIR_H_

#include <map>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/model/manifest.h"

namespace cairn::runtime {

struct LoadedPack {
  std::string dir;
  model::Manifest manifest;
  std::string variant_name;
  std::map<std::string, Bytes> files;  // verified contents, by manifest file name

  const model::Variant& variant() const { return *manifest.FindVariant(variant_name); }
  const model::ModelFile& variant_file() const { return *manifest.FindFile(variant().file); }
  ByteView File(std::string_view name) const;  // empty if not loaded
  std::string_view Text(std::string_view name) const;
};

// Reads DIR/manifest.json and DIR/manifest.sig, verifies them, checks the licence, then reads
// and verifies the variant's model file, the tokenizer and the text vocabulary (if any).
// Errors name the file.
Result<LoadedPack> LoadPackDir(const std::string& dir, const model::TrustStore& trust,
                               const model::Workspace& workspace, std::string_view variant);

// Reads a whole file (up to max_bytes) for the host: kNotFound, kIoError or kOutOfRange.
Result<Bytes> ReadHostFile(const std::string& path, uint64_t max_bytes);

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_PACK_DIR_H_
