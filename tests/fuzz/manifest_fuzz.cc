// Model-pack manifests and their signature files: untrusted bytes from a download or a pack
// directory. The input is split into a manifest and a signature file. The harness also signs
// the manifest with its own trusted key, so the checks behind the signature (the parser and its
// validation) are reached for every input, not only for the few whose signature holds.
//
// Oracles: a manifest ParseManifest accepts verifies under a good signature and means the same
// thing; whatever is accepted keeps the promises manifest.h makes (plain file names, sizes
// within bounds, 64-hex hashes, every variant's file listed).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/crypto/hash.h"
#include "core/crypto/sign.h"
#include "core/model/manifest.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::model {
namespace {

struct Keys {
  crypto::SigningKeyPair key = crypto::SigningKeyPairFromSeed(Bytes(32, 7)).value();
  TrustStore trust;
  std::string key_id = TrustStore::KeyId(key.public_key);
  Keys() { (void)trust.Add(key.public_key); }
};

bool PlainName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void CheckAccepted(const Manifest& m) {
  for (const ModelFile& f : m.files) {
    CAIRN_FUZZ_CHECK(PlainName(f.name), "file name " + f.name);
    CAIRN_FUZZ_CHECK(f.size <= kMaxModelFileBytes, f.name);
    CAIRN_FUZZ_CHECK(f.blake2b.size() == 64, f.name + " hash " + f.blake2b);
    CAIRN_FUZZ_CHECK(FromHex(f.blake2b).ok(), f.blake2b);
  }
  for (const Variant& v : m.variants) {
    CAIRN_FUZZ_CHECK(m.FindFile(v.file) != nullptr, "variant " + v.name + " file " + v.file);
  }
  if (!m.tokenizer_file.empty()) {
    CAIRN_FUZZ_CHECK(m.FindFile(m.tokenizer_file) != nullptr, m.tokenizer_file);
  }
  CAIRN_FUZZ_CHECK(m.context_length >= 0, "negative context length");
  for (const char* name : {"low", "preview", "final", "other"}) (void)m.PresetOrDefault(name);
}

}  // namespace
}  // namespace cairn::model

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  using namespace cairn::model;
  static const Keys keys;
  FuzzedDataProvider in(data, size);
  const std::string signature_file = in.ConsumeRandomLengthString(512);
  const std::string manifest = in.ConsumeRemainingBytesAsString();

  Result<Manifest> parsed = ParseManifest(manifest);
  (void)VerifyManifest(AsBytes(manifest), AsBytes(signature_file), keys.trust);

  Result<Bytes> sig = crypto::Sign(keys.key.secret_key.view(), AsBytes(manifest));
  CAIRN_FUZZ_CHECK(sig.ok(), sig.status().ToString());
  const std::string good_sig = SignatureFileJson(keys.key_id, *sig);
  Result<Manifest> verified = VerifyManifest(AsBytes(manifest), AsBytes(good_sig), keys.trust);

  if (manifest.size() <= kMaxManifestBytes) {
    CAIRN_FUZZ_CHECK(parsed.ok() == verified.ok(),
                     "parse: " + parsed.status().ToString() +
                         " verify: " + verified.status().ToString());
  }
  if (verified.ok()) {
    CheckAccepted(*verified);
    CAIRN_FUZZ_CHECK(verified->signer == keys.key_id, verified->signer);
    CAIRN_FUZZ_CHECK(parsed.ok() && parsed->id == verified->id, verified->id);
    (void)CheckLicence(*verified, Workspace{.commercial = true});
    // A file passes its verifier only with the manifest's exact size and hash.
    static const std::string kBytes = "not the model";
    static const std::string kHash = [] {
      crypto::Blake2b h = crypto::Blake2b::Create().value();
      h.Update(AsBytes(kBytes));
      return ToHex(h.Final().value());
    }();
    for (const ModelFile& f : verified->files) {
      FileVerifier v(f);
      const bool passed = v.Update(AsBytes(kBytes)).ok() && v.Finish().ok();
      CAIRN_FUZZ_CHECK(passed == (f.size == kBytes.size() && f.blake2b == kHash),
                       "verifier of " + f.name);
    }
  }
  return 0;
}
