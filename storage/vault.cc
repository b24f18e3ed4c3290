// Vault: opening, keys, schema and migrations, transactions. Records are in vault_records.cc.
#include "storage/vault.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/crypto/aead.h"
#include "core/crypto/key_wrap.h"
#include "core/crypto/random.h"
#include "storage/cipher_vfs.h"
#include "storage/key_file.h"
#include "storage/sqlite_util.h"
#include "storage/vfs_file.h"

namespace cairn::storage {
namespace {

constexpr char kKeyContext[] = "cairn/vault-key/v1";

// Each migration takes the schema from version i to i + 1 in one transaction.
const char* const kMigrations[] = {
    // 1: drafts with version history, settings.
    R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE drafts (
  id INTEGER PRIMARY KEY,
  caption TEXT NOT NULL,
  hashtags TEXT NOT NULL,           -- JSON array of strings
  task TEXT NOT NULL, context TEXT NOT NULL, style TEXT NOT NULL, output_format TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'ready', 'posted')),
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX drafts_by_update ON drafts(updated_at DESC);
CREATE TABLE draft_versions (
  draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  caption TEXT NOT NULL, hashtags TEXT NOT NULL,
  task TEXT NOT NULL, context TEXT NOT NULL, style TEXT NOT NULL, output_format TEXT NOT NULL,
  status TEXT NOT NULL,
  saved_at INTEGER NOT NULL,
  PRIMARY KEY (draft_id, version)
) STRICT;
)sql",
    // 2: full-text search over drafts (external content, kept in step by triggers).
    R"sql(
CREATE VIRTUAL TABLE drafts_fts USING fts5(
  caption, hashtags, context, content='drafts', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER drafts_fts_insert AFTER INSERT ON drafts BEGIN
  INSERT INTO drafts_fts(rowid, caption, hashtags, context)
  VALUES (new.id, new.caption, new.hashtags, new.context);
END;
CREATE TRIGGER drafts_fts_delete AFTER DELETE ON drafts BEGIN
  INSERT INTO drafts_fts(drafts_fts, rowid, caption, hashtags, context)
  VALUES ('delete', old.id, old.caption, old.hashtags, old.context);
END;
CREATE TRIGGER drafts_fts_update AFTER UPDATE ON drafts BEGIN
  INSERT INTO drafts_fts(drafts_fts, rowid, caption, hashtags, context)
  VALUES ('delete', old.id, old.caption, old.hashtags, old.context);
  INSERT INTO drafts_fts(rowid, caption, hashtags, context)
  VALUES (new.id, new.caption, new.hashtags, new.context);
END;
INSERT INTO drafts_fts(drafts_fts) VALUES ('rebuild');
)sql",
    // 3: assets with provenance, installed models, the jobs outbox.
    R"sql(
CREATE TABLE assets (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('photo', 'render', 'thumbnail')),
  mime TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL,
  draft_id INTEGER REFERENCES drafts(id) ON DELETE SET NULL,
  model_id TEXT NOT NULL, model_version TEXT NOT NULL, model_checksum TEXT NOT NULL,
  quantization TEXT NOT NULL, backend TEXT NOT NULL, tier TEXT NOT NULL, preset TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX assets_by_blob ON assets(blob_hash);
CREATE TABLE models (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  manifest TEXT NOT NULL,
  licence_spdx TEXT NOT NULL,
  commercial_use INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('available', 'downloading', 'installed', 'failed')),
  bytes INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE outbox_jobs (
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('caption-hq', 'image-export')),
  preset TEXT NOT NULL CHECK (preset IN ('low', 'preview', 'final')),
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('queued', 'sending', 'accepted', 'running', 'done', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  server_job_id TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_state ON outbox_jobs(state, next_attempt_at);
)sql",
    // 4: the blob store's records, and which blobs hold each model's files.
    R"sql(
CREATE TABLE blobs (
  file TEXT PRIMARY KEY,              -- the encrypted file's name in the vault directory
  hash TEXT UNIQUE,                   -- BLAKE2b-256 of the plaintext; NULL while writing
  size INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('writing', 'ready')),
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE model_files (
  model_id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  PRIMARY KEY (model_id, file_name)
) STRICT;
)sql",
    // 5: the rest of an asset's provenance: the prompt format's version and the seed.
    R"sql(
ALTER TABLE assets ADD COLUMN prompt_schema TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN seed INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: what the sync engine keeps per job: a durable cancel intent and the fetched result.
    R"sql(
ALTER TABLE outbox_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_jobs ADD COLUMN result TEXT NOT NULL DEFAULT '';
)sql",
    // 7: the draft a job was made from, which its payload (sent to the server) does not carry.
    R"sql(
ALTER TABLE outbox_jobs ADD COLUMN draft_id INTEGER REFERENCES drafts(id) ON DELETE SET NULL;
)sql",
    // 8: each draft's text vector per embedding model, for semantic search. text_hash is the
    // BLAKE2b-256 of DraftEmbeddingText: a new draft version with the same text keeps its
    // vector. Drafts from before have none; the host embeds them lazily (DraftsToEmbed).
    R"sql(
CREATE TABLE draft_vectors (
  draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  draft_version INTEGER NOT NULL,
  text_hash BLOB NOT NULL,
  dims INTEGER NOT NULL,
  vector BLOB NOT NULL,               -- dims float32, little-endian
  PRIMARY KEY (model_id, draft_id)
) STRICT;
CREATE INDEX draft_vectors_by_draft ON draft_vectors(draft_id);
)sql",
    // 9: blob writes that go on after a restart (a model download resumed after a reload):
    // the 'writing' blob's file, its whole chunks written and synced, the BLAKE2b state of
    // their plaintext (crypto::Blake2b::Save), the plaintext tail of at most one chunk that
    // follows them, and the caller's own state, all inside the encrypted pages.
    R"sql(
CREATE TABLE blob_resume (
  key TEXT PRIMARY KEY,
  file TEXT NOT NULL,
  nonce BLOB NOT NULL,
  chunks INTEGER NOT NULL,
  hash_state BLOB NOT NULL,
  tail BLOB NOT NULL,
  caller_state BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
)sql",
    // 10: HQ image export. The outbox records whether the job's source image has been uploaded
    // (the engine uploads it before every submission that needs it) and how many times the job
    // was submitted again because the server lost its source (blob_missing; the idempotency
    // key on the wire carries "-r<n>"). Assets get details: JSON text, e.g. a render's job,
    // rendition name and source, and a photo's tags and safety verdict.
    R"sql(
ALTER TABLE outbox_jobs ADD COLUMN source_uploaded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_jobs ADD COLUMN resubmits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
CREATE INDEX assets_by_kind ON assets(kind, id);
)sql",
    // 11: HQ caption results as assets (kind 'caption-hq': the result JSON is the blob), and the
    // outbox job that made an asset (job_id; a render's from its details), one caption-hq asset
    // per job at most, so a job saved again after a restart cannot make a second. SQLite cannot
    // change a CHECK in place: the table is copied into one with the new kind and column.
    R"sql(
CREATE TABLE assets_v11 (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('photo', 'render', 'thumbnail', 'caption-hq')),
  mime TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL,
  draft_id INTEGER REFERENCES drafts(id) ON DELETE SET NULL,
  model_id TEXT NOT NULL, model_version TEXT NOT NULL, model_checksum TEXT NOT NULL,
  quantization TEXT NOT NULL, backend TEXT NOT NULL, tier TEXT NOT NULL, preset TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  prompt_schema TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0,
  details TEXT NOT NULL DEFAULT '{}',
  job_id INTEGER REFERENCES outbox_jobs(id) ON DELETE SET NULL
) STRICT;
INSERT INTO assets_v11 (id, kind, mime, blob_hash, bytes, width, height, draft_id, model_id,
    model_version, model_checksum, quantization, backend, tier, preset, created_at, prompt_schema,
    seed, details, job_id)
  SELECT id, kind, mime, blob_hash, bytes, width, height, draft_id, model_id, model_version,
    model_checksum, quantization, backend, tier, preset, created_at, prompt_schema, seed, details,
    CASE WHEN kind = 'render' AND json_valid(details) THEN
      (SELECT j.id FROM outbox_jobs j WHERE j.id = json_extract(assets.details, '$.job')) END
  FROM assets;
DROP TABLE assets;
ALTER TABLE assets_v11 RENAME TO assets;
CREATE INDEX assets_by_blob ON assets(blob_hash);
CREATE INDEX assets_by_kind ON assets(kind, id);
CREATE UNIQUE INDEX assets_one_caption_per_job ON assets(job_id) WHERE kind = 'caption-hq';
)sql",
};
static_assert(std::size(kMigrations) == kVaultSchemaVersion);

Bytes KeyContext(ByteView vault_id) {
  Bytes ctx(kKeyContext, kKeyContext + sizeof(kKeyContext) - 1);
  ctx.insert(ctx.end(), vault_id.begin(), vault_id.end());
  return ctx;
}

// About half a second of Argon2id on this device, never below OWASP's floor.
crypto::Argon2idParams TuneKdf(const Clock& clock) {
  const Bytes salt(crypto::kArgon2SaltBytes, 0);
  for (uint64_t memory : {64ull << 20, 19ull << 20}) {
    const int64_t t0 = clock.MonotonicNanos();
    if (!crypto::Argon2id(AsBytes("tuning"), salt, {1, memory}).ok()) continue;
    const double per_pass = std::max(1e-4, (clock.MonotonicNanos() - t0) / 1e9);
    const auto passes = static_cast<uint64_t>(std::lround(0.5 / per_pass));
    return {std::clamp<uint64_t>(passes, 2, crypto::kArgon2MaxPasses), memory};
  }
  return crypto::kArgon2OwaspMinimum;
}

sqlite3_vfs* HostVfs(const VaultOptions& o) {
  return o.host_vfs ? o.host_vfs : sqlite3_vfs_find(nullptr);
}

Status RequireNoVault(sqlite3_vfs* host, const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, VfsExists(host, VaultKeyPath(dir)));
  if (exists) return AlreadyExists("a vault already exists in " + dir);
  return Status::Ok();
}

Result<KeyFileContents> ReadKeys(sqlite3_vfs* host, const std::string& dir) {
  Result<KeyFileContents> keys = ReadKeyFile(host, VaultKeyPath(dir));
  if (keys.status().code() == StatusCode::kNotFound) {
    return NotFound("no vault in " + dir + " (it has no vault.key)");
  }
  return keys;
}

}  // namespace

std::string VaultKeyPath(const std::string& dir) { return dir + "/vault.key"; }
std::string VaultDbPath(const std::string& dir, uint32_t generation) {
  return generation == 0 ? dir + "/vault.db" : dir + "/vault-" + std::to_string(generation) + ".db";
}

namespace {

// A database file with its WAL, shared-memory index and journal.
Status DeleteDbFiles(sqlite3_vfs* host, const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    CAIRN_RETURN_IF_ERROR(VfsDelete(host, db + suffix));
  }
  return Status::Ok();
}

// A path as a URI filename that SQLite decodes back to the same path.
std::string UriPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#' || c == '\'') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Vault::~Vault() {
  stmts_.Clear();
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
  vfs_.reset();  // after the connection: the VFS must outlive every file it opened
}

int64_t Vault::NowMs() const {
  return (options_.clock ? *options_.clock : SystemClock::Default()).NowUnixMillis();
}

Result<std::unique_ptr<Vault>> Vault::Create(const std::string& dir, std::string_view passphrase,
                                             const VaultOptions& options) {
  if (passphrase.empty()) return InvalidArgument("the passphrase is empty");
  sqlite3_vfs* host = HostVfs(options);
  CAIRN_RETURN_IF_ERROR(RequireNoVault(host, dir));
  KeyFileContents keys;
  keys.vault_id = crypto::RandomBytes(kVaultIdBytes);
  keys.kdf = options.kdf ? *options.kdf
                         : TuneKdf(options.clock ? *options.clock : SystemClock::Default());
  keys.salt = crypto::RandomBytes(crypto::kArgon2SaltBytes);
  SecretBytes key = crypto::RandomSecret(crypto::kAeadKeyBytes);
  CAIRN_ASSIGN_OR_RETURN(SecretBytes kek, crypto::Argon2id(AsBytes(passphrase), keys.salt, keys.kdf));
  CAIRN_ASSIGN_OR_RETURN(keys.passphrase_wrapped,
                         crypto::WrapKey(kek.view(), key.view(), KeyContext(keys.vault_id)));
  CAIRN_RETURN_IF_ERROR(WriteKeyFile(host, VaultKeyPath(dir), &keys));
  return OpenWithKey(dir, std::move(key), keys.vault_id, 0, /*create=*/true, options);
}

Result<std::unique_ptr<Vault>> Vault::CreateWithDeviceKey(const std::string& dir,
                                                          ByteView device_key,
                                                          const VaultOptions& options) {
  sqlite3_vfs* host = HostVfs(options);
  CAIRN_RETURN_IF_ERROR(RequireNoVault(host, dir));
  KeyFileContents keys;
  keys.vault_id = crypto::RandomBytes(kVaultIdBytes);
  SecretBytes key = crypto::RandomSecret(crypto::kAeadKeyBytes);
  CAIRN_ASSIGN_OR_RETURN(keys.device_wrapped,
                         crypto::WrapKey(device_key, key.view(), KeyContext(keys.vault_id)));
  CAIRN_RETURN_IF_ERROR(WriteKeyFile(host, VaultKeyPath(dir), &keys));
  return OpenWithKey(dir, std::move(key), keys.vault_id, 0, /*create=*/true, options);
}

Result<std::unique_ptr<Vault>> Vault::Open(const std::string& dir, std::string_view passphrase,
                                           const VaultOptions& options) {
  sqlite3_vfs* host = HostVfs(options);
  CAIRN_ASSIGN_OR_RETURN(KeyFileContents keys, ReadKeys(host, dir));
  if (keys.passphrase_wrapped.empty()) {
    return FailedPrecondition("the vault in " + dir +
                              " has no passphrase; unlock it with its device key");
  }
  CAIRN_ASSIGN_OR_RETURN(SecretBytes kek, crypto::Argon2id(AsBytes(passphrase), keys.salt, keys.kdf));
  Result<SecretBytes> key =
      crypto::UnwrapKey(kek.view(), keys.passphrase_wrapped, KeyContext(keys.vault_id));
  if (key.status().code() == StatusCode::kAuthFailed) {
    return WrongPassphrase("wrong passphrase for the vault in " + dir);
  }
  if (!key.ok()) return key.status().WithContext(VaultKeyPath(dir));
  return OpenWithKey(dir, std::move(key).value(), keys.vault_id, keys.db_generation,
                     /*create=*/false, options);
}

Result<std::unique_ptr<Vault>> Vault::OpenWithDeviceKey(const std::string& dir,
                                                        ByteView device_key,
                                                        const VaultOptions& options) {
  sqlite3_vfs* host = HostVfs(options);
  CAIRN_ASSIGN_OR_RETURN(KeyFileContents keys, ReadKeys(host, dir));
  if (keys.device_wrapped.empty()) {
    return FailedPrecondition("the vault in " + dir + " has no device key; use its passphrase");
  }
  Result<SecretBytes> key =
      crypto::UnwrapKey(device_key, keys.device_wrapped, KeyContext(keys.vault_id));
  if (key.status().code() == StatusCode::kAuthFailed) {
    return WrongPassphrase("the device key does not unlock the vault in " + dir);
  }
  if (!key.ok()) return key.status().WithContext(VaultKeyPath(dir));
  return OpenWithKey(dir, std::move(key).value(), keys.vault_id, keys.db_generation,
                     /*create=*/false, options);
}

Result<std::unique_ptr<Vault>> Vault::OpenWithKey(const std::string& dir, SecretBytes key,
                                                  ByteView vault_id, uint32_t generation,
                                                  bool create, const VaultOptions& options) {
  std::unique_ptr<Vault> v(new Vault());
  v->dir_ = dir;
  v->options_ = options;
  v->host_ = HostVfs(options);
  v->vault_id_.assign(vault_id.begin(), vault_id.end());
  v->generation_ = generation;
  CAIRN_ASSIGN_OR_RETURN(v->vfs_, CipherVfs::Register(v->host_, key.view(), vault_id));
  CAIRN_ASSIGN_OR_RETURN(v->blob_key_, crypto::DeriveSubkey(key.view(), 1, "cairnblb"));
  // Only an interrupted rekey leaves files of the neighbouring generations.
  CAIRN_RETURN_IF_ERROR(DeleteDbFiles(v->host_, VaultDbPath(dir, generation + 1)));
  if (generation > 0) CAIRN_RETURN_IF_ERROR(DeleteDbFiles(v->host_, VaultDbPath(dir, generation - 1)));
  CAIRN_RETURN_IF_ERROR(v->OpenConnection(create));
  CAIRN_RETURN_IF_ERROR(v->Migrate(options.max_schema_version));
  return v;
}

Status Vault::OpenConnection(bool create) {
  const std::string path = VaultDbPath(dir_, generation_);
  if (!create) {
    CAIRN_ASSIGN_OR_RETURN(bool exists, VfsExists(host_, path));
    if (!exists) {
      return Corruption("the vault in " + dir_ + " has a key file but no " + path + "; restore it");
    }
  }
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_EXRESCODE |
              SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs_->name());
  if (rc != SQLITE_OK) return Explain(SqliteStatus(db_, rc, "open " + path));
  if (create) {
    int reserve = kPageReserve;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  }
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;";
  if (options_.exclusive) pragmas += "PRAGMA locking_mode=EXCLUSIVE;";
  pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;";
  CAIRN_RETURN_IF_ERROR(Explain(Exec(db_, pragmas).WithContext(path)));
  // The page format depends on 40 reserved bytes per page; refuse anything else.
  int reserve = -1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  if (reserve != kPageReserve) {
    return Corruption(path + " does not have the vault page format (reserve " +
                      std::to_string(reserve) + ", want 40)");
  }
  return Status::Ok();
}

Status Vault::Migrate(int target) {
  int current = 0;
  {
    // Reset before migrating: a statement still open locks the tables a migration drops.
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "PRAGMA user_version"));
    CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
    current = row ? static_cast<int>(q.Int(0)) : 0;
  }
  if (current > kVaultSchemaVersion) {
    return Unsupported("the vault in " + dir_ + " has schema version " + std::to_string(current) +
                       ", newer than this version of Cairn understands (" +
                       std::to_string(kVaultSchemaVersion) + "); update Cairn");
  }
  for (int v = current + 1; v <= target; ++v) {
    CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
      CAIRN_RETURN_IF_ERROR(Exec(db_, kMigrations[v - 1]));
      return Exec(db_, "PRAGMA user_version=" + std::to_string(v));
    }).WithContext("migrating the vault to schema version " + std::to_string(v)));
    current = v;
  }
  schema_version_ = current;
  return Status::Ok();
}

Status Vault::InTransaction(const std::function<Status()>& body) {
  {
    CAIRN_ASSIGN_OR_RETURN(Stmt begin, stmts_.Get(db_, "BEGIN IMMEDIATE"));
    CAIRN_RETURN_IF_ERROR(Explain(begin.Run()));
  }
  Status s = body();
  if (s.ok()) {
    Result<Stmt> commit = stmts_.Get(db_, "COMMIT");
    s = commit.ok() ? commit->Run() : commit.status();
  }
  if (!s.ok()) {
    if (!sqlite3_get_autocommit(db_)) Exec(db_, "ROLLBACK").IgnoreError();
    return Explain(s);
  }
  return Status::Ok();
}

Status Vault::Explain(Status s) const {
  if (s.ok() || !vfs_) return s;
  std::string detail = vfs_->last_error();
  if (detail.empty()) return s;
  vfs_->clear_last_error();
  return Corruption(detail + " [" + s.message() + "]");
}

Status Vault::ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase) {
  if (new_passphrase.empty()) return InvalidArgument("the new passphrase is empty");
  CAIRN_ASSIGN_OR_RETURN(KeyFileContents keys, ReadKeys(host_, dir_));
  if (keys.passphrase_wrapped.empty()) {
    return FailedPrecondition("the vault in " + dir_ + " has no passphrase to change");
  }
  CAIRN_ASSIGN_OR_RETURN(SecretBytes old_kek,
                         crypto::Argon2id(AsBytes(old_passphrase), keys.salt, keys.kdf));
  Result<SecretBytes> key =
      crypto::UnwrapKey(old_kek.view(), keys.passphrase_wrapped, KeyContext(keys.vault_id));
  if (key.status().code() == StatusCode::kAuthFailed) {
    return WrongPassphrase("the current passphrase is wrong");
  }
  if (!key.ok()) return key.status();
  keys.salt = crypto::RandomBytes(crypto::kArgon2SaltBytes);
  if (options_.kdf) keys.kdf = *options_.kdf;
  CAIRN_ASSIGN_OR_RETURN(SecretBytes kek,
                         crypto::Argon2id(AsBytes(new_passphrase), keys.salt, keys.kdf));
  CAIRN_ASSIGN_OR_RETURN(keys.passphrase_wrapped,
                         crypto::WrapKey(kek.view(), key->view(), KeyContext(keys.vault_id)));
  return WriteKeyFile(host_, VaultKeyPath(dir_), &keys);
}

Status Vault::Rekey(std::string_view passphrase) {
  return RekeyWith([&](KeyFileContents* keys, ByteView new_key) -> Status {
    if (keys->passphrase_wrapped.empty() || !keys->device_wrapped.empty()) {
      return FailedPrecondition("rekey with a passphrase needs a vault unlocked by passphrase only");
    }
    CAIRN_ASSIGN_OR_RETURN(SecretBytes kek,
                           crypto::Argon2id(AsBytes(passphrase), keys->salt, keys->kdf));
    Result<SecretBytes> current =
        crypto::UnwrapKey(kek.view(), keys->passphrase_wrapped, KeyContext(keys->vault_id));
    if (current.status().code() == StatusCode::kAuthFailed) {
      return WrongPassphrase("wrong passphrase for the vault in " + dir_);
    }
    CAIRN_RETURN_IF_ERROR(current.status());
    CAIRN_ASSIGN_OR_RETURN(keys->passphrase_wrapped,
                           crypto::WrapKey(kek.view(), new_key, KeyContext(keys->vault_id)));
    return Status::Ok();
  });
}

Status Vault::RekeyWithDeviceKey(ByteView device_key) {
  return RekeyWith([&](KeyFileContents* keys, ByteView new_key) -> Status {
    if (keys->device_wrapped.empty() || !keys->passphrase_wrapped.empty()) {
      return FailedPrecondition("rekey with a device key needs a vault unlocked by it only");
    }
    Result<SecretBytes> current =
        crypto::UnwrapKey(device_key, keys->device_wrapped, KeyContext(keys->vault_id));
    if (current.status().code() == StatusCode::kAuthFailed) {
      return WrongPassphrase("the device key does not unlock the vault in " + dir_);
    }
    CAIRN_RETURN_IF_ERROR(current.status());
    CAIRN_ASSIGN_OR_RETURN(keys->device_wrapped,
                           crypto::WrapKey(device_key, new_key, KeyContext(keys->vault_id)));
    return Status::Ok();
  });
}

Status Vault::RekeyWith(const std::function<Status(KeyFileContents*, ByteView)>& rewrap) {
  CAIRN_ASSIGN_OR_RETURN(KeyFileContents keys, ReadKeys(host_, dir_));
  if (keys.db_generation != generation_) {
    return FailedPrecondition("the vault in " + dir_ + " was rekeyed by another connection");
  }
  // The key file is checked (and the new key wrapped) before anything is written.
  SecretBytes new_key = crypto::RandomSecret(crypto::kAeadKeyBytes);
  CAIRN_RETURN_IF_ERROR(rewrap(&keys, new_key.view()));
  CAIRN_ASSIGN_OR_RETURN(SecretBytes new_blob_key, crypto::DeriveSubkey(new_key.view(), 1, "cairnblb"));
  const uint32_t next = generation_ + 1;
  const std::string new_db = VaultDbPath(dir_, next);
  CAIRN_RETURN_IF_ERROR(DeleteDbFiles(host_, new_db));

  // (0) Resumable writes are given up: their chunks are under the old key.
  CAIRN_RETURN_IF_ERROR(DropResumableBlobs());
  // (1) Blobs, re-encrypted into new files recorded as 'writing' here.
  std::vector<std::pair<std::string, std::string>> moved;  // old file, new file
  CAIRN_RETURN_IF_ERROR(ReencryptBlobs(new_blob_key.view(), &moved));

  // (2) The database, copied through a cipher VFS with the new key, then synced.
  CAIRN_ASSIGN_OR_RETURN(auto new_vfs, CipherVfs::Register(host_, new_key.view(), vault_id_));
  std::string uri = "file:" + UriPath(new_db) + "?vfs=" + new_vfs->name();
  CAIRN_RETURN_IF_ERROR(Explain(Exec(db_, "VACUUM INTO '" + uri + "'")).WithContext("rekey copy"));
  {
    CAIRN_ASSIGN_OR_RETURN(VfsFile f, VfsFile::Open(host_, new_db, VfsFile::Mode::kReadWrite));
    CAIRN_RETURN_IF_ERROR(f.Sync());
  }

  // (3) In the copy: blob records point at the new files; the old files become collectable.
  {
    sqlite3* copy = nullptr;
    int rc = sqlite3_open_v2(new_db.c_str(), &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE,
                             new_vfs->name());
    Status s = SqliteStatus(copy, rc, "open " + new_db);
    std::string sql = std::string(options_.exclusive ? "PRAGMA locking_mode=EXCLUSIVE;" : "") +
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; BEGIN IMMEDIATE;";
    if (s.ok()) s = Exec(copy, sql);
    for (const auto& [old_file, new_file] : moved) {
      if (!s.ok()) break;
      auto q = Stmt::Prepare(copy, "DELETE FROM blobs WHERE file=? AND state='writing'");
      s = q.status();
      if (s.ok()) s = q->Bind(1, new_file).Run();
      if (s.ok()) {
        auto u = Stmt::Prepare(copy, "UPDATE blobs SET file=?2 WHERE file=?1");
        s = u.status();
        if (s.ok()) s = u->Bind(1, old_file).Bind(2, new_file).Run();
      }
      if (s.ok()) {
        auto w = Stmt::Prepare(copy, "INSERT INTO blobs (file, state, created_at) VALUES (?, 'writing', 0)");
        s = w.status();
        if (s.ok()) s = w->Bind(1, old_file).Run();
      }
    }
    if (s.ok()) s = Exec(copy, "COMMIT");
    sqlite3_close_v2(copy);
    CAIRN_RETURN_IF_ERROR(s.WithContext("rekey: updating the copy"));
  }

  // (4) The commit point.
  keys.db_generation = next;
  CAIRN_RETURN_IF_ERROR(WriteKeyFile(host_, VaultKeyPath(dir_), &keys));

  // (5) Switch this connection over, then clear the old generation away.
  const std::string old_db = VaultDbPath(dir_, generation_);
  stmts_.Clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
  vfs_ = std::move(new_vfs);
  blob_key_ = std::move(new_blob_key);
  generation_ = next;
  CAIRN_RETURN_IF_ERROR(OpenConnection(/*create=*/false));
  CAIRN_RETURN_IF_ERROR(DeleteDbFiles(host_, old_db));
  return RemoveBlobFiles("state='writing'").status();
}

Result<std::string> Vault::IntegrityCheck() {
  CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "PRAGMA integrity_check"));
  std::string out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    if (!out.empty()) out += "\n";
    out += q.Text(0);
  }
  if (out.empty()) return Corruption("integrity_check returned nothing");
  return out;
}

}  // namespace cairn::storage
