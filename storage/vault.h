// The Vault: where everything a creator makes lives, encrypted at rest.
//
//   VaultOptions opts;                                  // default VFS, tuned Argon2id
//   auto vault = Vault::Create("/data/cairn", "correct horse battery", opts);
//   if (!vault.ok()) return vault.status();
//   DraftInput d;
//   d.caption = "Golden hour on the pier";
//   d.hashtags = {"#sunset", "#pier"};
//   d.prompt = {"Write 3 captions", "photo: pier at sunset", "warm, short", "JSON array"};
//   Result<int64_t> id = (*vault)->CreateDraft(d);      // OK means committed and durable
//   auto hits = (*vault)->SearchDrafts("pier", 10);
//   ...
//   auto again = Vault::Open("/data/cairn", "correct horse battery", opts);
//   // a wrong passphrase: kWrongPassphrase, "wrong passphrase for the vault in /data/cairn"
//
// Files in the vault directory: vault.key (the wrapped database key, storage/key_file.h),
// vault.db and its WAL (every page encrypted by storage/cipher_vfs.h). storage/FORMAT.md has
// the formats.
//
// Durable before acknowledged: every mutating call runs in its own transaction with
// synchronous=FULL, so a call that returns OK has committed and survives power loss; a call
// that fails has changed nothing.
//
// Threading: a Vault is one connection; use it from one thread at a time. Several Vault
// objects may open the same directory (readers see committed data while a writer writes),
// except with `exclusive` (one connection, no shared-memory file: the browser, FaultVfs).
#ifndef CAIRN_STORAGE_VAULT_H_
#define CAIRN_STORAGE_VAULT_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/clock.h"
#include "core/base/secret_bytes.h"
#include "core/base/status.h"
#include "core/crypto/password_hash.h"
#include "core/provenance/provenance.h"
#include "storage/sqlite_util.h"

namespace cairn::storage {

class CipherVfs;

inline constexpr int kVaultSchemaVersion = 11;
inline constexpr size_t kBlobChunkBytes = 64 * 1024;

struct VaultOptions {
  sqlite3_vfs* host_vfs = nullptr;  // nullptr: SQLite's default (POSIX natively)
  bool exclusive = false;           // EXCLUSIVE locking, no -shm file
  // Argon2id parameters for a new passphrase. Unset: tuned at creation to about half a second
  // on this device, never below OWASP's minimum (19 MiB, 2 passes).
  std::optional<crypto::Argon2idParams> kdf;
  const Clock* clock = nullptr;  // nullptr: the system clock
  // Testing only: stop migrating at this schema version (to build older vaults).
  int max_schema_version = kVaultSchemaVersion;
};

struct PromptParts {
  std::string task;
  std::string context;
  std::string style;
  std::string output_format;
  friend bool operator==(const PromptParts&, const PromptParts&) = default;
};

struct DraftInput {
  std::string caption;
  std::vector<std::string> hashtags;
  PromptParts prompt;
  std::string status = "draft";  // draft | ready | posted
};

struct Draft {
  int64_t id = 0;
  DraftInput content;
  int64_t version = 1;  // 1 on creation, +1 on each update
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct DraftVersion {
  int64_t version = 0;
  DraftInput content;
  int64_t saved_at_ms = 0;
};

struct SearchHit {
  int64_t draft_id = 0;
  double score = 0;  // higher is better
  std::string snippet;
  std::string match = "text";  // text | meaning | both: which search found it
};

// A draft whose vector (for one embedding model) is missing or older than its text.
struct DraftText {
  int64_t draft_id = 0;
  int64_t version = 0;  // the draft's version the text is from
  std::string text;     // DraftEmbeddingText
};

// Below this cosine similarity a draft is not a match by meaning (GloVe: "beach sunset" ~
// "ocean waves at dusk" 0.64 with stopwords dropped, ~ "quarterly tax filing" 0.17).
inline constexpr double kSemanticFloor = 0.4;

struct AssetInput {
  std::string kind;       // photo | render | thumbnail | caption-hq
  std::string mime;       // image/jpeg, image/webp, ...; a caption-hq result: application/json
  std::string blob_hash;  // the encrypted blob's content address (hex)
  int64_t bytes = 0;
  int width = 0;
  int height = 0;
  std::optional<int64_t> draft_id;
  // The outbox job that made it (a render, a caption-hq result); unset for the creator's own.
  // A job has at most one caption-hq asset (AddAsset: kAlreadyExists for a second).
  std::optional<int64_t> job_id;
  Provenance provenance;  // empty model_id for assets the creator supplied
  // A JSON object (text), e.g. a render's {"job","rendition","source"} or a photo's tags and
  // safety verdict with their models' provenance. "{}" when there is nothing to add.
  std::string details = "{}";
};

struct Asset {
  int64_t id = 0;
  AssetInput content;
  int64_t created_at_ms = 0;
};

struct InstalledModel {
  std::string id;
  std::string version;
  std::string manifest_json;
  std::string licence_spdx;
  bool commercial_use = false;
  std::string state;  // available | downloading | installed | failed
  int64_t bytes = 0;
  int64_t updated_at_ms = 0;
};

struct OutboxJob {
  int64_t id = 0;
  std::string idempotency_key;  // assigned at creation, sent with every attempt
  std::string kind;             // caption-hq | image-export
  std::string preset;           // low | preview | final
  std::string payload_json;
  std::string state;  // queued | sending | accepted | running | done | failed | cancelled
  int64_t attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  std::string server_job_id;
  bool cancel_requested = false;  // the user asked to cancel; kept until the server confirms
  std::string result_json;        // the server's result, once fetched (state done)
  // The draft the job was made from. Kept on the device only (the payload goes to the server as
  // is); unset for a job made from no draft, or once that draft is deleted.
  std::optional<int64_t> draft_id;
  bool source_uploaded = false;  // image-export: the source blob is on the server
  int64_t resubmits = 0;         // image-export: submitted again after blob_missing
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

class Vault;

// Streams a new blob into the vault: Append() encrypts as data arrives, in batches of 16 chunks
// (1 MiB), never holding more than two batches of plaintext; Commit() syncs the file and records
// it, returning its content address (BLAKE2b-256 hex of the plaintext). Destroyed without
// Commit(), it removes the file. Natively the hash of one batch runs on a helper thread while the
// caller's thread encrypts and writes (storage/pipeline.h); all I/O stays on the caller's thread.
//
// A resumable writer (Vault::ResumableBlob) survives its process: Checkpoint() syncs what was
// appended and records it under the writer's key with the caller's own state, and a resumable
// writer destroyed after a checkpoint keeps its file, so the next ResumableBlob(key) goes on
// from the last checkpoint. Abandon() gives the write up for good (a refused download).
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;  // the replaced writer ends as if destroyed
  ~BlobWriter();
  Status Append(ByteView data);
  Result<std::string> Commit();
  // Commits only if the content address is `expected_hash` (BLAKE2b-256 hex); otherwise the
  // write is abandoned and the result is kAuthFailed. A download checked against a signed
  // manifest this way is hashed once, by the writer, not a second time by the caller.
  Result<std::string> Commit(std::string_view expected_hash);
  // Resumable writers only. `caller_state` comes back from ResumableBlob (e.g. a verifier's
  // state at this point); returns the bytes recorded, which is everything appended so far.
  Result<uint64_t> Checkpoint(ByteView caller_state);
  // Removes the file and every record of it, checkpointed or not. The writer is then finished.
  void Abandon();
  uint64_t size() const;  // bytes appended, counting those of a resumed write

 private:
  friend class Vault;
  struct State;
  explicit BlobWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// What Vault::ResumableBlob gives: a writer and where it stands.
struct ResumedBlob {
  BlobWriter writer;
  uint64_t offset = 0;  // bytes it holds already (0 for a new write): append from there
  Bytes caller_state;   // what the last Checkpoint() was given (empty for a new write)
};

struct BlobInfo {
  std::string hash;
  int64_t size = 0;
  std::string file;  // the encrypted file's name in the vault directory
};

class Vault {
 public:
  static Result<std::unique_ptr<Vault>> Create(const std::string& dir,
                                               std::string_view passphrase,
                                               const VaultOptions& options);
  static Result<std::unique_ptr<Vault>> CreateWithDeviceKey(const std::string& dir,
                                                            ByteView device_key,
                                                            const VaultOptions& options);
  // kWrongPassphrase for a wrong passphrase; kNotFound if there is no vault in `dir`.
  static Result<std::unique_ptr<Vault>> Open(const std::string& dir, std::string_view passphrase,
                                             const VaultOptions& options);
  static Result<std::unique_ptr<Vault>> OpenWithDeviceKey(const std::string& dir,
                                                          ByteView device_key,
                                                          const VaultOptions& options);
  ~Vault();

  // Re-wraps the database key under a new passphrase; no page is re-encrypted.
  Status ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase);

  // Replaces the database key and re-encrypts every page and blob under it; crash-safe at any
  // point (storage/FORMAT.md, Keys). The vault stays open on the new key. Other connections to
  // this vault must be closed first.
  Status Rekey(std::string_view passphrase);
  Status RekeyWithDeviceKey(ByteView device_key);

  // Drafts.
  Result<int64_t> CreateDraft(const DraftInput& draft);
  Result<Draft> GetDraft(int64_t id);
  // Saves `draft` as the new version; the previous one goes to the history.
  Status UpdateDraft(int64_t id, const DraftInput& draft);
  Status DeleteDraft(int64_t id);
  // Newest first.
  Result<std::vector<Draft>> ListDrafts(int limit, int offset = 0);
  // Oldest first; the current version is not included.
  Result<std::vector<DraftVersion>> DraftHistory(int64_t id);
  // Full-text search over caption, hashtags and context, best first. Any user text is a valid
  // query (it is quoted, never parsed as FTS syntax); the last word matches as a prefix.
  Result<std::vector<SearchHit>> SearchDrafts(std::string_view query, int limit);

  // Draft vectors for semantic search (vault_vectors.cc), one per draft and embedding model,
  // stored in the encrypted database like every other record. The host embeds; the vault
  // decides what needs embedding and ranks.
  //
  // Drafts with no vector from `model_id` for their current text: new ones, edited ones, and
  // those saved before the model was installed, oldest first. A draft whose version changed
  // but whose text did not (a status change) is marked current here, not returned.
  Result<std::vector<DraftText>> DraftsToEmbed(std::string_view model_id, int limit);
  // Stores draft `draft_id`'s vector (DraftText::version says which text it is of): kNotFound
  // if the draft is gone, kFailedPrecondition if it has been saved again since (embed again).
  Status PutDraftVector(int64_t draft_id, int64_t version, std::string_view model_id,
                        std::span<const float> vector);
  Result<std::optional<std::vector<float>>> GetDraftVector(int64_t draft_id,
                                                           std::string_view model_id);
  // Full-text search fused with search by meaning (reciprocal-rank fusion, core/search/rank.h):
  // drafts whose vector from `model_id` is at least kSemanticFloor similar to `query_vector`
  // (the query's embedding by the same model). An empty vector: full text only.
  Result<std::vector<SearchHit>> SearchDraftsHybrid(std::string_view query,
                                                    std::span<const float> query_vector,
                                                    std::string_view model_id, int limit);

  // Settings.
  Status SetSetting(std::string_view key, std::string_view value);
  Result<std::optional<std::string>> GetSetting(std::string_view key);

  // Assets (rows; the bytes live in the blob store) with provenance.
  // AddAsset refuses details that are not a JSON object (kInvalidArgument).
  Result<int64_t> AddAsset(const AssetInput& asset);
  Result<Asset> GetAsset(int64_t id);
  // Newest first; `kind` empty: every kind.
  Result<std::vector<Asset>> ListAssets(std::string_view kind, int limit, int offset = 0);
  // The newest asset of `kind` whose blob is `blob_hash`, if any (e.g. a render already saved).
  Result<std::optional<Asset>> FindAsset(std::string_view kind, std::string_view blob_hash);
  // The newest asset of `kind` made by outbox job `job_id`, if any (a caption-hq result saved).
  Result<std::optional<Asset>> FindJobAsset(std::string_view kind, int64_t job_id);
  // Removes the asset row (kNotFound if there is none). Its blob stays until CollectGarbage()
  // finds nothing else refers to it (another asset, a model file, or an unfinished image
  // export whose source it is may share it).
  Status DeleteAsset(int64_t id);
  // How many outbox image exports not yet done, failed or cancelled name `blob_hash` as their
  // source photo: CollectGarbage() keeps such a blob until they end.
  Result<int> UnfinishedExportsUsing(std::string_view blob_hash);

  // Installed models.
  Status PutModel(const InstalledModel& model);
  Result<std::vector<InstalledModel>> ListModels();

  // The jobs outbox (the sync engine drives the states).
  Result<OutboxJob> EnqueueJob(std::string_view kind, std::string_view preset,
                               std::string_view payload_json,
                               std::optional<int64_t> draft_id = std::nullopt);
  Result<OutboxJob> GetJob(int64_t id);
  Result<std::vector<OutboxJob>> ListJobs();
  // Jobs not yet done, failed or cancelled, oldest first: what a sync engine resumes at start.
  Result<std::vector<OutboxJob>> ListUnfinishedJobs();
  // Writes a job's sync fields (state, attempts, next_attempt_at_ms, last_error, server_job_id,
  // cancel_requested, result_json, source_uploaded, resubmits) in one transaction; the rest of `job` is ignored. A job in a
  // terminal state keeps it: changing it is kFailedPrecondition (rewriting the same terminal
  // state is allowed, so a replayed write is harmless). kNotFound if there is no such job.
  Status UpdateJob(const OutboxJob& job);

  // The blob store (storage/FORMAT.md): large files encrypted in 64 KiB chunks, addressed by
  // content hash, readable by byte range. A blob is kept while an asset, a model file or an
  // unfinished image export (its source) refers to it; CollectGarbage() removes the rest, and leftovers of writes a crash interrupted.
  Result<BlobWriter> NewBlob();
  // The write recorded under `key` where its last checkpoint left it, or a new one when there
  // is none or it cannot go on (its file is gone or shorter than recorded, or it was saved by
  // another build); one writer per key at a time. Recorded writes older than 30 days are
  // collected as garbage, and a rekey drops them all (their chunks are under the old key).
  Result<ResumedBlob> ResumableBlob(std::string_view key);
  Result<std::string> PutBlob(ByteView data);
  Result<BlobInfo> StatBlob(std::string_view hash);
  Result<std::vector<BlobInfo>> ListBlobs();
  // Verifies every chunk and the content hash (natively hashing on a helper thread while this
  // one reads and decrypts).
  Result<Bytes> ReadBlob(std::string_view hash);
  // Decrypts only the chunks the range touches; each is authenticated.
  Result<Bytes> ReadBlobRange(std::string_view hash, int64_t offset, int64_t length);
  Status RecordModelFile(std::string_view model_id, std::string_view file_name,
                         std::string_view blob_hash);
  // Removes blobs nothing refers to (no asset, model file or unfinished image export's source)
  // and leftovers of interrupted writes. Returns how many blob files were removed.
  Result<int> CollectGarbage();

  // "ok", or SQLite's integrity_check findings. Also reads every page, so a page that fails
  // to authenticate is reported (kCorruption naming the page).
  Result<std::string> IntegrityCheck();

  int schema_version() const { return schema_version_; }
  const std::string& dir() const { return dir_; }
  sqlite3* db() { return db_; }  // for tests and the vault tool

 private:
  Vault() = default;
  static Result<std::unique_ptr<Vault>> OpenWithKey(const std::string& dir, SecretBytes key,
                                                    ByteView vault_id, uint32_t generation,
                                                    bool create, const VaultOptions& options);
  Status OpenConnection(bool create);
  Status RekeyWith(const std::function<Status(struct KeyFileContents*, ByteView)>& rewrap);
  Status ReencryptBlobs(ByteView new_blob_key,
                       std::vector<std::pair<std::string, std::string>>* moved);
  Result<int> RemoveBlobFiles(const std::string& where_sql);
  Status DropResumableBlobs();  // every resumable write, file and record
  Result<std::vector<OutboxJob>> ListJobsWhere(const char* where_sql);
  Status Migrate(int target);
  Status InTransaction(const std::function<Status()>& body);
  // Adds the cipher VFS's page-level detail to a storage error.
  Status Explain(Status s) const;
  int64_t NowMs() const;
  friend class BlobWriter;
  Result<BlobInfo> FindBlob(std::string_view hash);

  std::string dir_;
  VaultOptions options_;
  sqlite3_vfs* host_ = nullptr;
  std::unique_ptr<CipherVfs> vfs_;
  sqlite3* db_ = nullptr;
  StmtCache stmts_;  // db_'s statements; cleared before db_ is closed
  SecretBytes blob_key_;  // derived from the database key, for blob chunks
  Bytes vault_id_;
  uint32_t generation_ = 0;
  int schema_version_ = 0;
};

// The text a draft is embedded by: its caption, hashtags and the prompt's context (the photo's
// description and tags), one per line.
std::string DraftEmbeddingText(const std::string& caption, const std::vector<std::string>& hashtags,
                               const std::string& context);

// The paths of a vault's files.
std::string VaultKeyPath(const std::string& dir);
std::string VaultDbPath(const std::string& dir, uint32_t generation = 0);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_VAULT_H_
