#include "core/crypto/secret_stream.h"

#include <catch_amalgamated.hpp>

#include <vector>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "tests/support/test_util.h"

namespace cairn::crypto {
namespace {

struct Sealed {
  Bytes header;
  std::vector<Bytes> chunks;
};

Sealed Encrypt(ByteView key, const std::vector<Bytes>& parts, ByteView ad = {}) {
  Sealed s;
  SecretStreamWriter w = SecretStreamWriter::Create(key, &s.header).value();
  for (size_t i = 0; i < parts.size(); ++i) {
    Bytes ct;
    REQUIRE(w.Push(parts[i], ad, i + 1 == parts.size(), &ct).ok());
    s.chunks.push_back(std::move(ct));
  }
  return s;
}

// Decrypts chunk by chunk; returns the first error (from Pull or Finish).
Status Decrypt(ByteView key, const Sealed& s, std::vector<Bytes>* out, ByteView ad = {}) {
  CAIRN_ASSIGN_OR_RETURN(SecretStreamReader r, SecretStreamReader::Create(key, s.header));
  for (const Bytes& ct : s.chunks) {
    SecretBytes plain;
    CAIRN_RETURN_IF_ERROR(r.Pull(ct, ad, &plain));
    out->emplace_back(plain.view().begin(), plain.view().end());
  }
  return r.Finish();
}

std::vector<Bytes> Parts(std::initializer_list<size_t> sizes) {
  std::vector<Bytes> parts;
  for (size_t n : sizes) parts.push_back(RandomBytes(n));
  return parts;
}

TEST_CASE("secretstream round-trips chunks of any size, including an empty final chunk") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  for (auto parts : {Parts({0}), Parts({1}), Parts({65536, 65536, 100}), Parts({5, 0}),
                     Parts({17, 18, 19, 20})}) {
    Sealed s = Encrypt(key.view(), parts, AsBytes("blob:abc"));
    REQUIRE(s.header.size() == kStreamHeaderBytes);
    for (size_t i = 0; i < parts.size(); ++i) {
      CHECK(s.chunks[i].size() == parts[i].size() + kStreamChunkOverhead);
    }
    std::vector<Bytes> back;
    REQUIRE(Decrypt(key.view(), s, &back, AsBytes("blob:abc")).ok());
    CHECK(back == parts);
  }
}

TEST_CASE("a stream cut before its final chunk is reported as truncated") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  Sealed s = Encrypt(key.view(), Parts({100, 100, 100}));
  s.chunks.pop_back();
  std::vector<Bytes> out;
  Status st = Decrypt(key.view(), s, &out);
  CHECK(st.code() == StatusCode::kCorruption);
  CHECK(st.message() ==
        "secretstream: the stream ended after 2 chunks without its final chunk: truncated");
}

TEST_CASE("reordered, duplicated or dropped chunks fail at the chunk they reach") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  const Sealed s = Encrypt(key.view(), Parts({64, 64, 64, 64}));

  Sealed swapped = s;
  std::swap(swapped.chunks[1], swapped.chunks[2]);
  std::vector<Bytes> out;
  Status st = Decrypt(key.view(), swapped, &out);
  CHECK(st.code() == StatusCode::kAuthFailed);
  CHECK_THAT(st.message(), Catch::Matchers::StartsWith("secretstream: chunk 1:"));

  Sealed duplicated = s;
  duplicated.chunks.insert(duplicated.chunks.begin() + 1, s.chunks[0]);
  out.clear();
  CHECK(Decrypt(key.view(), duplicated, &out).code() == StatusCode::kAuthFailed);
  CHECK(out.size() == 1);  // the first chunk was good; nothing after the failure

  Sealed dropped = s;
  dropped.chunks.erase(dropped.chunks.begin() + 2);
  out.clear();
  CHECK(Decrypt(key.view(), dropped, &out).code() == StatusCode::kAuthFailed);
}

TEST_CASE("data after the final chunk is refused") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  Sealed s = Encrypt(key.view(), Parts({10, 10}));
  s.chunks.push_back(s.chunks.back());
  std::vector<Bytes> out;
  Status st = Decrypt(key.view(), s, &out);
  CHECK(st.code() == StatusCode::kCorruption);
  CHECK_THAT(st.message(), Catch::Matchers::ContainsSubstring("after the final chunk"));
}

TEST_CASE("flipping any byte of the header or any chunk is detected") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  const Sealed s = Encrypt(key.view(), Parts({20, 7}));
  size_t tried = 0;
  for (size_t i = 0; i < s.header.size(); ++i, ++tried) {
    Sealed bad = s;
    bad.header[i] ^= 0x04;
    std::vector<Bytes> out;
    CHECK(Decrypt(key.view(), bad, &out).code() == StatusCode::kAuthFailed);
  }
  for (size_t c = 0; c < s.chunks.size(); ++c) {
    for (size_t i = 0; i < s.chunks[c].size(); ++i, ++tried) {
      Sealed bad = s;
      bad.chunks[c][i] ^= 0x04;
      std::vector<Bytes> out;
      CHECK(Decrypt(key.view(), bad, &out).code() == StatusCode::kAuthFailed);
    }
  }
  CHECK(tried == 24 + 37 + 24);
}

TEST_CASE("wrong key and wrong associated data fail at chunk 0") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  SecretBytes other = RandomSecret(kStreamKeyBytes);
  Sealed s = Encrypt(key.view(), Parts({32}), AsBytes("model.onnx"));
  std::vector<Bytes> out;
  Status wrong_key = Decrypt(other.view(), s, &out, AsBytes("model.onnx"));
  CHECK(wrong_key.code() == StatusCode::kAuthFailed);
  CHECK_THAT(wrong_key.message(), Catch::Matchers::StartsWith("secretstream: chunk 0:"));
  CHECK(Decrypt(key.view(), s, &out, AsBytes("other.onnx")).code() == StatusCode::kAuthFailed);
}

TEST_CASE("a failed stream stays failed; pushes after final are refused") {
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  Sealed s = Encrypt(key.view(), Parts({8, 8}));
  SecretStreamReader r = SecretStreamReader::Create(key.view(), s.header).value();
  Bytes bad = s.chunks[0];
  bad[0] ^= 1;
  SecretBytes plain;
  CHECK(r.Pull(bad, {}, &plain).code() == StatusCode::kAuthFailed);
  CHECK(r.Pull(s.chunks[0], {}, &plain).code() == StatusCode::kFailedPrecondition);

  Bytes header;
  SecretStreamWriter w = SecretStreamWriter::Create(key.view(), &header).value();
  Bytes ct;
  REQUIRE(w.Push(AsBytes("end"), {}, true, &ct).ok());
  CHECK(w.Push(AsBytes("more"), {}, false, &ct).code() == StatusCode::kFailedPrecondition);
  CHECK(SecretStreamReader::Create(key.view(), Bytes(23)).status().code() ==
        StatusCode::kCorruption);
}

TEST_CASE("a large stream is processed chunk by chunk, never whole") {
  // 8 MiB through 64 KiB buffers: the test holds one plaintext and one ciphertext chunk.
  SecretBytes key = RandomSecret(kStreamKeyBytes);
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kChunks = 128;
  Bytes header;
  SecretStreamWriter w = SecretStreamWriter::Create(key.view(), &header).value();
  SecretStreamReader r = SecretStreamReader::Create(key.view(), header).value();
  Blake2b in_hash = Blake2b::Create().value();
  Blake2b out_hash = Blake2b::Create().value();
  Bytes plain(kChunk), ct(kChunk + kStreamChunkOverhead), back(kChunk);
  for (size_t i = 0; i < kChunks; ++i) {
    RandomFill(plain);
    in_hash.Update(plain);
    REQUIRE(w.Push(plain, {}, i + 1 == kChunks, ct).ok());
    REQUIRE(r.Pull(ct, {}, back).ok());
    out_hash.Update(back);
  }
  CHECK(r.Finish().ok());
  CHECK(in_hash.Final().value() == out_hash.Final().value());
}

}  // namespace
}  // namespace cairn::crypto
