#include "core/crypto/hash.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/base/secret_bytes.h"
#include "core/crypto/sodium.h"

namespace cairn::crypto {

struct Blake2bState {
  crypto_generichash_blake2b_state s;
  ~Blake2bState() { SecureWipe(&s, sizeof s); }  // a keyed state holds the key
};
struct Sha256State {
  crypto_hash_sha256_state s;
};

static_assert(kBlake2bMinBytes == crypto_generichash_blake2b_BYTES_MIN);
static_assert(kBlake2bMaxBytes == crypto_generichash_blake2b_BYTES_MAX);
static_assert(kBlake2bMaxKeyBytes == crypto_generichash_blake2b_KEYBYTES_MAX);
static_assert(kSha256Bytes == crypto_hash_sha256_BYTES);

Blake2b::Blake2b() : state_(std::make_unique<Blake2bState>()) {}
Blake2b::Blake2b(Blake2b&&) noexcept = default;
Blake2b& Blake2b::operator=(Blake2b&&) noexcept = default;
Blake2b::~Blake2b() = default;

Result<Blake2b> Blake2b::Create(size_t digest_size, ByteView key) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  if (digest_size < kBlake2bMinBytes || digest_size > kBlake2bMaxBytes) {
    return InvalidArgument("blake2b: digest size must be 16..64 bytes, got " +
                           std::to_string(digest_size));
  }
  if (key.size() > kBlake2bMaxKeyBytes) {
    return InvalidArgument("blake2b: key must be at most 64 bytes, got " +
                           std::to_string(key.size()));
  }
  Blake2b h;
  h.digest_size_ = digest_size;
  crypto_generichash_blake2b_init(&h.state_->s, key.empty() ? nullptr : key.data(), key.size(),
                                  digest_size);
  return h;
}

namespace {
// Save()'s layout: "B2S1", the state's size and the digest size (u32 little-endian each), the
// state's bytes. The size stands for the build's layout: another libsodium or ABI differs.
constexpr char kSavedTag[4] = {'B', '2', 'S', '1'};
constexpr size_t kSavedHead = 12;

void PutU32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t GetU32(ByteView in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(in[i]) << (8 * i);
  return v;
}
}  // namespace

Result<Bytes> Blake2b::Save() const {
  if (!state_ || done_) return FailedPrecondition("blake2b: the digest was taken; nothing to save");
  Bytes out(kSavedTag, kSavedTag + 4);
  PutU32(out, sizeof state_->s);
  PutU32(out, static_cast<uint32_t>(digest_size_));
  const auto* raw = reinterpret_cast<const uint8_t*>(&state_->s);
  out.insert(out.end(), raw, raw + sizeof state_->s);
  return out;
}

Result<Blake2b> Blake2b::Restore(ByteView saved) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  if (saved.size() != kSavedHead + sizeof(Blake2bState::s) ||
      !std::equal(kSavedTag, kSavedTag + 4, saved.begin()) ||
      GetU32(saved.subspan(4)) != sizeof(Blake2bState::s)) {
    return InvalidArgument("blake2b: the saved state is not one this build wrote");
  }
  const uint32_t digest_size = GetU32(saved.subspan(8));
  if (digest_size < kBlake2bMinBytes || digest_size > kBlake2bMaxBytes) {
    return InvalidArgument("blake2b: the saved state has a digest size of " +
                           std::to_string(digest_size));
  }
  Blake2b h;
  h.digest_size_ = digest_size;
  std::memcpy(&h.state_->s, saved.data() + kSavedHead, sizeof h.state_->s);
  return h;
}

void Blake2b::Update(ByteView data) {
  if (state_ && !done_) crypto_generichash_blake2b_update(&state_->s, data.data(), data.size());
}

Result<Bytes> Blake2b::Final() {
  if (!state_ || done_) return FailedPrecondition("blake2b: digest already taken");
  Bytes out(digest_size_);
  crypto_generichash_blake2b_final(&state_->s, out.data(), out.size());
  done_ = true;
  return out;
}

Sha256::Sha256() : state_(std::make_unique<Sha256State>()) {
  EnsureSodiumOrDie();
  crypto_hash_sha256_init(&state_->s);
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::Update(ByteView data) {
  if (state_ && !done_) crypto_hash_sha256_update(&state_->s, data.data(), data.size());
}

Result<Bytes> Sha256::Final() {
  if (!state_ || done_) return FailedPrecondition("sha256: digest already taken");
  Bytes out(kSha256Bytes);
  crypto_hash_sha256_final(&state_->s, out.data());
  done_ = true;
  return out;
}

Result<Bytes> Blake2bHash(ByteView data, size_t digest_size, ByteView key) {
  CAIRN_ASSIGN_OR_RETURN(Blake2b h, Blake2b::Create(digest_size, key));
  h.Update(data);
  return h.Final();
}

Bytes Sha256Hash(ByteView data) {
  EnsureSodiumOrDie();
  Bytes out(kSha256Bytes);
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

}  // namespace cairn::crypto
