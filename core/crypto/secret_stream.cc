#include "core/crypto/secret_stream.h"

#include <sodium.h>

#include <string>

#include "core/base/secret_bytes.h"
#include "core/crypto/sodium.h"

namespace cairn::crypto {

struct SecretStreamState {
  crypto_secretstream_xchacha20poly1305_state s;
  ~SecretStreamState() { SecureWipe(&s, sizeof s); }
};

namespace {

static_assert(kStreamKeyBytes == crypto_secretstream_xchacha20poly1305_KEYBYTES);
static_assert(kStreamHeaderBytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kStreamChunkOverhead == crypto_secretstream_xchacha20poly1305_ABYTES);

Status CheckKey(ByteView key) {
  CAIRN_RETURN_IF_ERROR(EnsureSodium());
  if (key.size() != kStreamKeyBytes) {
    return InvalidArgument("secretstream: key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return Status::Ok();
}

}  // namespace

SecretStreamWriter::SecretStreamWriter() : state_(std::make_unique<SecretStreamState>()) {}
SecretStreamWriter::SecretStreamWriter(SecretStreamWriter&&) noexcept = default;
SecretStreamWriter& SecretStreamWriter::operator=(SecretStreamWriter&&) noexcept = default;
SecretStreamWriter::~SecretStreamWriter() = default;

Result<SecretStreamWriter> SecretStreamWriter::Create(ByteView key, Bytes* header) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  SecretStreamWriter w;
  header->resize(kStreamHeaderBytes);
  crypto_secretstream_xchacha20poly1305_init_push(&w.state_->s, header->data(), key.data());
  return w;
}

Status SecretStreamWriter::Push(ByteView chunk, ByteView associated_data, bool final,
                                MutableByteView out) {
  if (!state_) return FailedPrecondition("secretstream: writer was moved from");
  if (finished_) {
    return FailedPrecondition("secretstream: push after the final chunk (chunk " +
                              std::to_string(chunks_) + ")");
  }
  if (out.size() != chunk.size() + kStreamChunkOverhead) {
    return InvalidArgument("secretstream: output buffer must be chunk size + 17 bytes");
  }
  const uint8_t tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push(&state_->s, out.data(), nullptr, chunk.data(),
                                             chunk.size(), associated_data.data(),
                                             associated_data.size(), tag);
  ++chunks_;
  finished_ = final;
  return Status::Ok();
}

Status SecretStreamWriter::Push(ByteView chunk, ByteView associated_data, bool final, Bytes* out) {
  const size_t start = out->size();
  out->resize(start + chunk.size() + kStreamChunkOverhead);
  Status s = Push(chunk, associated_data, final, MutableByteView(*out).subspan(start));
  if (!s.ok()) out->resize(start);
  return s;
}

SecretStreamReader::SecretStreamReader() : state_(std::make_unique<SecretStreamState>()) {}
SecretStreamReader::SecretStreamReader(SecretStreamReader&&) noexcept = default;
SecretStreamReader& SecretStreamReader::operator=(SecretStreamReader&&) noexcept = default;
SecretStreamReader::~SecretStreamReader() = default;

Result<SecretStreamReader> SecretStreamReader::Create(ByteView key, ByteView header) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  if (header.size() != kStreamHeaderBytes) {
    return Corruption("secretstream: header must be 24 bytes, got " +
                      std::to_string(header.size()));
  }
  SecretStreamReader r;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&r.state_->s, header.data(), key.data()) !=
      0) {
    return Corruption("secretstream: invalid stream header");
  }
  return r;
}

Status SecretStreamReader::Pull(ByteView ciphertext, ByteView associated_data,
                                MutableByteView out) {
  if (!state_) return FailedPrecondition("secretstream: reader was moved from");
  const std::string where = "secretstream: chunk " + std::to_string(chunks_);
  if (failed_) return FailedPrecondition(where + ": the stream already failed to authenticate");
  if (finished_) return Corruption(where + ": data after the final chunk");
  if (ciphertext.size() < kStreamChunkOverhead) {
    return Corruption(where + " is " + std::to_string(ciphertext.size()) +
                      " bytes, shorter than its 17-byte tag: truncated");
  }
  if (out.size() != ciphertext.size() - kStreamChunkOverhead) {
    return InvalidArgument(where + ": output buffer must be ciphertext size - 17 bytes");
  }
  uint8_t tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_->s, out.data(), nullptr, &tag,
                                                 ciphertext.data(), ciphertext.size(),
                                                 associated_data.data(),
                                                 associated_data.size()) != 0) {
    failed_ = true;
    SecureWipe(out.data(), out.size());
    return AuthFailed(where +
                      ": authentication failed (wrong key, or the chunk was modified, reordered, "
                      "duplicated or one before it is missing)");
  }
  ++chunks_;
  finished_ = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return Status::Ok();
}

Status SecretStreamReader::Pull(ByteView ciphertext, ByteView associated_data, SecretBytes* out) {
  if (ciphertext.size() < kStreamChunkOverhead) {
    return Pull(ciphertext, associated_data, MutableByteView());
  }
  SecretBytes plain(ciphertext.size() - kStreamChunkOverhead);
  CAIRN_RETURN_IF_ERROR(Pull(ciphertext, associated_data, plain.span()));
  *out = std::move(plain);
  return Status::Ok();
}

Status SecretStreamReader::Finish() const {
  if (finished_) return Status::Ok();
  return Corruption("secretstream: the stream ended after " + std::to_string(chunks_) +
                    " chunks without its final chunk: truncated");
}

}  // namespace cairn::crypto
