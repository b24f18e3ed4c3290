// Crypto throughput: prints one JSON object per line, {"name", "unit", "value", ...}.
// bench/run.py runs the native and wasm builds of this file and prints them side by side.
#include <cstdio>
#include <functional>
#include <string>

#include "core/base/clock.h"
#include "core/crypto/aead.h"
#include "core/crypto/hash.h"
#include "core/crypto/password_hash.h"
#include "core/crypto/random.h"
#include "core/crypto/secret_stream.h"

namespace cairn::crypto {
namespace {

constexpr size_t kChunk = 64 * 1024;

// Runs `step` (which processes `bytes_per_step`) until at least `min_seconds` have passed,
// after one warm-up call; returns MB/s (10^6 bytes per second).
double Throughput(size_t bytes_per_step, double min_seconds, const std::function<void()>& step) {
  const Clock& clock = SystemClock::Default();
  step();
  int64_t start = clock.MonotonicNanos();
  int64_t steps = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) step();
    steps += 16;
    elapsed = (clock.MonotonicNanos() - start) / 1e9;
  } while (elapsed < min_seconds);
  return steps * static_cast<double>(bytes_per_step) / elapsed / 1e6;
}

void Report(const std::string& name, const char* unit, double value) {
  std::printf("{\"bench\":\"crypto\",\"name\":\"%s\",\"unit\":\"%s\",\"value\":%.2f}\n",
              name.c_str(), unit, value);
  std::fflush(stdout);
}

int Main() {
  const double secs = 0.7;
  SecretBytes key = RandomSecret(32);
  Bytes plain = RandomBytes(kChunk);
  Bytes nonce = RandomBytes(kAeadNonceBytes);
  Bytes ct(kChunk), tag(kAeadTagBytes);

  Report("aead_xchacha20poly1305_encrypt_64KiB", "MB/s", Throughput(kChunk, secs, [&] {
           (void)AeadEncryptDetached(key.view(), nonce, {}, plain, ct, tag);
         }));
  (void)AeadEncryptDetached(key.view(), nonce, {}, plain, ct, tag);
  Bytes back(kChunk);
  Report("aead_xchacha20poly1305_decrypt_64KiB", "MB/s", Throughput(kChunk, secs, [&] {
           if (!AeadDecryptDetached(key.view(), nonce, {}, ct, tag, back).ok()) std::abort();
         }));

  Bytes header;
  SecretStreamWriter w = SecretStreamWriter::Create(key.view(), &header).value();
  Bytes sct(kChunk + kStreamChunkOverhead);
  Report("secretstream_push_64KiB_chunks", "MB/s", Throughput(kChunk, secs, [&] {
           (void)w.Push(plain, {}, false, sct);
         }));

  // Pull needs a matching stream: encrypt a fresh one chunk by chunk as it is read.
  Bytes rheader;
  SecretStreamWriter w2 = SecretStreamWriter::Create(key.view(), &rheader).value();
  SecretStreamReader r = SecretStreamReader::Create(key.view(), rheader).value();
  const Clock& clock = SystemClock::Default();
  int64_t pull_ns = 0, pulled = 0;
  while (pull_ns < secs * 1e9) {
    (void)w2.Push(plain, {}, false, sct);
    int64_t t0 = clock.MonotonicNanos();
    if (!r.Pull(sct, {}, back).ok()) std::abort();
    pull_ns += clock.MonotonicNanos() - t0;
    ++pulled;
  }
  Report("secretstream_pull_64KiB_chunks", "MB/s", pulled * double(kChunk) / (pull_ns / 1e9) / 1e6);

  Blake2b b = Blake2b::Create(32).value();
  Report("blake2b_256_streaming", "MB/s", Throughput(kChunk, secs, [&] { b.Update(plain); }));
  Sha256 s;
  Report("sha256_streaming", "MB/s", Throughput(kChunk, secs, [&] { s.Update(plain); }));

  // Argon2id at OWASP's minimum (19 MiB, 2 passes): milliseconds per derivation.
  Bytes salt = RandomBytes(kArgon2SaltBytes);
  int64_t t0 = clock.MonotonicNanos();
  const int kDerivations = 3;
  for (int i = 0; i < kDerivations; ++i) {
    if (!Argon2id(AsBytes("bench passphrase"), salt, kArgon2OwaspMinimum).ok()) std::abort();
  }
  Report("argon2id_19MiB_t2", "ms", (clock.MonotonicNanos() - t0) / 1e6 / kDerivations);
  return 0;
}

}  // namespace
}  // namespace cairn::crypto

int main() { return cairn::crypto::Main(); }
