// The tiny test model packs (models/recipe/tiny_decoders.py, built by CMake into the build
// tree), copied into a test's directory and signed with a throwaway key.
#ifndef CAIRN_TESTS_SUPPORT_TEST_PACKS_H_
#define CAIRN_TESTS_SUPPORT_TEST_PACKS_H_

#include <filesystem>
#include <fstream>
#include <string>

#include "core/crypto/sign.h"
#include "core/model/manifest.h"
#include "tests/support/temp_dir.h"

namespace cairn::testing {

inline std::string TestModelsDir() { return CAIRN_TEST_MODELS_DIR; }

struct SignedPack {
  std::string dir;
  model::TrustStore trust;
  crypto::SigningKeyPair key;
};

inline void WriteFileText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// Copies test pack NAME ("tiny-gpt2", "tiny-llama") into DIR/NAME and signs its manifest.
inline SignedPack MakeSignedPack(const TempDir& dir, const std::string& name) {
  SignedPack p;
  p.dir = dir / name;
  std::filesystem::copy(TestModelsDir() + "/" + name, p.dir,
                        std::filesystem::copy_options::recursive);
  p.key = crypto::GenerateSigningKeyPair();
  (void)p.trust.Add(p.key.public_key);
  const Bytes manifest = ReadFileBytes(p.dir + "/manifest.json");
  const Bytes sig = crypto::Sign(p.key.secret_key.view(), manifest).value();
  WriteFileText(p.dir + "/manifest.sig",
                model::SignatureFileJson(model::TrustStore::KeyId(p.key.public_key), sig));
  return p;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_TEST_PACKS_H_
