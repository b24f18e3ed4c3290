// Streaming authenticated encryption for large blobs (model files, images): libsodium's
// secretstream (XChaCha20-Poly1305), one chunk at a time, so no file is ever held whole.
//
//   Bytes header;
//   CAIRN_ASSIGN_OR_RETURN(auto writer, SecretStreamWriter::Create(key.view(), &header));
//   for each chunk: writer.Push(chunk, ad, /*final=*/is_last, &ciphertext)  // +17 bytes each
//
//   CAIRN_ASSIGN_OR_RETURN(auto reader, SecretStreamReader::Create(key.view(), header));
//   for each ciphertext chunk: reader.Pull(ct, ad, &plain)
//   CAIRN_RETURN_IF_ERROR(reader.Finish());  // fails if the final chunk never came
//
// The stream's internal counter authenticates order: a chunk reordered, duplicated, dropped or
// modified fails with kAuthFailed naming the chunk's index; data after the final chunk is
// kCorruption; a stream that ends before its final chunk is kCorruption from Finish().
// Objects are move-only and wipe their state on destruction. Not thread-safe.
#ifndef CAIRN_CORE_CRYPTO_SECRET_STREAM_H_
#define CAIRN_CORE_CRYPTO_SECRET_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/base/bytes.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kStreamKeyBytes = 32;
inline constexpr size_t kStreamHeaderBytes = 24;
inline constexpr size_t kStreamChunkOverhead = 17;  // 1 tag byte + 16 MAC bytes

struct SecretStreamState;  // libsodium's state, kept off the header

class SecretStreamWriter {
 public:
  // Writes the stream header (kStreamHeaderBytes) to *header.
  static Result<SecretStreamWriter> Create(ByteView key, Bytes* header);

  SecretStreamWriter(SecretStreamWriter&&) noexcept;
  SecretStreamWriter& operator=(SecretStreamWriter&&) noexcept;
  ~SecretStreamWriter();

  // Encrypts `chunk` into `out`, which must be chunk.size() + kStreamChunkOverhead bytes.
  // `final` marks the last chunk; nothing may be pushed after it.
  Status Push(ByteView chunk, ByteView associated_data, bool final, MutableByteView out);
  // The same, appending to *out.
  Status Push(ByteView chunk, ByteView associated_data, bool final, Bytes* out);

  uint64_t chunks() const { return chunks_; }
  bool finished() const { return finished_; }

 private:
  SecretStreamWriter();
  std::unique_ptr<SecretStreamState> state_;
  uint64_t chunks_ = 0;
  bool finished_ = false;
};

class SecretStreamReader {
 public:
  static Result<SecretStreamReader> Create(ByteView key, ByteView header);

  SecretStreamReader(SecretStreamReader&&) noexcept;
  SecretStreamReader& operator=(SecretStreamReader&&) noexcept;
  ~SecretStreamReader();

  // Decrypts the next chunk into `out` (ciphertext.size() - kStreamChunkOverhead bytes).
  Status Pull(ByteView ciphertext, ByteView associated_data, MutableByteView out);
  // The same, replacing *out.
  Status Pull(ByteView ciphertext, ByteView associated_data, SecretBytes* out);

  // OK once the final chunk has been read; kCorruption ("truncated") before.
  Status Finish() const;

  uint64_t chunks() const { return chunks_; }
  bool finished() const { return finished_; }

 private:
  SecretStreamReader();
  std::unique_ptr<SecretStreamState> state_;
  uint64_t chunks_ = 0;
  bool finished_ = false;
  bool failed_ = false;  // after an authentication failure the stream is unusable
};

}  // namespace cairn::crypto

#endif  // CAIRN_CORE_CRYPTO_SECRET_STREAM_H_
