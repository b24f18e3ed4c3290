/* cairn_api.h: the C ABI over Cairn's core and vault, exported by the wasm module the PWA's core
 * worker runs (and linkable natively, where the tests exercise it).
 *
 *   cairn_vault* v = NULL;
 *   if (cairn_vault_open("/vault", passphrase, &v) != CAIRN_OK) {
 *     show(cairn_last_error_code(), cairn_last_error_message());   // e.g. CAIRN_WRONG_PASSPHRASE
 *   }
 *   char* draft = NULL;
 *   cairn_draft_save(v, 0, "{\"caption\":\"Golden hour\",\"hashtags\":[]}", &draft);
 *   ... cairn_free(draft); cairn_vault_close(v);
 *
 * Conventions:
 * - Every function that can fail returns an int status: CAIRN_OK (0) or one of the codes below;
 *   cairn_last_error_code()/cairn_last_error_message() then describe the last failure on this
 *   thread (the message names what is wrong). Success leaves them unchanged.
 * - Objects are opaque handles made by a _open/_create/_start function and released by the
 *   matching _close (NULL is accepted and ignored).
 * - Strings are UTF-8, NUL-terminated. A `char** out` receives a string the caller frees with
 *   cairn_free; structured values are JSON, whose shapes each function's comment gives (the
 *   draft shape is storage/draft_json.h's).
 * - Model output inside returned JSON is untrusted text: render it as text, never as HTML.
 * - Not thread-safe: one thread (the core worker) uses a handle at a time.
 *
 * The exported symbols are listed in api/exports.txt (checked by the build); the status codes
 * reach TypeScript through api/gen_ts_abi.py, never copied by hand.
 */
#ifndef CAIRN_API_CAIRN_API_H_
#define CAIRN_API_CAIRN_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (the same numbers as cairn::StatusCode). */
#define CAIRN_OK 0
#define CAIRN_INVALID_ARGUMENT 1
#define CAIRN_NOT_FOUND 2
#define CAIRN_ALREADY_EXISTS 3
#define CAIRN_PERMISSION_DENIED 4
#define CAIRN_FAILED_PRECONDITION 5
#define CAIRN_OUT_OF_RANGE 6
#define CAIRN_RESOURCE_EXHAUSTED 7
#define CAIRN_UNAVAILABLE 8
#define CAIRN_CANCELLED 9
#define CAIRN_CORRUPTION 10
#define CAIRN_AUTH_FAILED 11
#define CAIRN_WRONG_PASSPHRASE 12
#define CAIRN_IO_ERROR 13
#define CAIRN_UNSUPPORTED 14
#define CAIRN_INTERNAL 15

/* Version of this ABI; bumped on any incompatible change. */
#define CAIRN_ABI_VERSION 4
int cairn_abi_version(void);

typedef struct cairn_vault cairn_vault;
typedef struct cairn_pack cairn_pack;
typedef struct cairn_model_file_writer cairn_model_file_writer;
typedef struct cairn_caption_model cairn_caption_model;
typedef struct cairn_caption_session cairn_caption_session;

/* Errors and memory. */
int cairn_last_error_code(void);
const char* cairn_last_error_message(void); /* valid until the next failing call */
void* cairn_malloc(size_t bytes);
void cairn_free(void* p);

/* The vault (storage/vault.h) in directory `dir` of the host file system (OPFS in the browser,
 * where the vault runs with exclusive locking). */
int cairn_vault_exists(const char* dir, int* out_exists);
int cairn_vault_create(const char* dir, const char* passphrase, cairn_vault** out);
/* CAIRN_WRONG_PASSPHRASE for a wrong passphrase, CAIRN_NOT_FOUND if there is no vault. */
int cairn_vault_open(const char* dir, const char* passphrase, cairn_vault** out);
/* A vault unlocked by a device key instead of a passphrase: `key_size` bytes (32) the host keeps
 * (in the browser: random, stored only wrapped by a non-extractable WebCrypto key). A vault has
 * one or the other, never both: opening with the wrong kind is CAIRN_FAILED_PRECONDITION, naming
 * the kind it has. A key that does not open the vault is CAIRN_WRONG_PASSPHRASE, the same class
 * as a wrong passphrase. The ABI copies nothing of `key` beyond the call; the host wipes it. */
int cairn_vault_create_with_device_key(const char* dir, const uint8_t* key, size_t key_size,
                                       cairn_vault** out);
int cairn_vault_open_with_device_key(const char* dir, const uint8_t* key, size_t key_size,
                                     cairn_vault** out);
/* How the vault in `dir` is unlocked, read from its key file without unlocking it:
 * {"passphrase":bool,"device_key":bool}. CAIRN_NOT_FOUND if there is no vault. */
int cairn_vault_unlock_kinds(const char* dir, char** out_kinds);
void cairn_vault_close(cairn_vault* vault);
/* "ok" or the findings (every page's tag and SQLite's integrity check). */
int cairn_vault_check(cairn_vault* vault, char** out_report);

/* Drafts. `id` 0 creates; otherwise saves a new version of draft `id`. Out: the saved draft,
 * {id, version, created_at_ms, updated_at_ms, caption, hashtags, status, prompt: {task, context,
 * style, output_format}}; draft_json takes the content fields. A list is a JSON array of drafts,
 * newest first; search hits are [{draft_id, score, snippet}], best first. */
int cairn_draft_save(cairn_vault* vault, int64_t id, const char* draft_json, char** out_draft);
int cairn_draft_get(cairn_vault* vault, int64_t id, char** out_draft);
int cairn_drafts_list(cairn_vault* vault, int limit, int offset, char** out_drafts);
int cairn_drafts_search(cairn_vault* vault, const char* query, int limit, char** out_hits);

/* Assets (photos the creator picked, renders the server made, HQ caption results) with their
 * provenance; the bytes live encrypted in the vault's blob store, addressed by BLAKE2b-256 (hex).
 * An asset as JSON: {id, kind, mime, blob_hash, bytes, width, height, draft_id, job_id,
 * created_at_ms, provenance: {model_id, model_version, model_checksum, quantization, backend,
 * tier, preset, prompt_schema, seed}, details: {...}}. details is what the asset's maker
 * recorded: a photo's tags and safety verdict with their models' provenance, a render's job,
 * rendition and source, a caption-hq result's job (its blob is the result JSON, checked when it
 * was saved). Model and server output inside it is untrusted: render it as text. */
/* Stores `size` bytes (at least 1) and records them as an asset. asset_json: {kind ("photo" |
 * "render" | "thumbnail"), mime, width?, height?, draft_id?, provenance?: {...}, details?: {}}
 * (an unknown field is CAIRN_INVALID_ARGUMENT, naming it). Out: the asset. */
int cairn_asset_add(cairn_vault* vault, const char* asset_json, const uint8_t* data, size_t size,
                    char** out_asset);
/* Newest first; kind "" (or NULL): every kind. Out: a JSON array of assets. */
int cairn_assets_list(cairn_vault* vault, const char* kind, int limit, int offset,
                      char** out_assets);
/* Deletes asset `id` (CAIRN_NOT_FOUND if there is none), then collects the vault's garbage: its
 * blob is removed unless another asset, a model file or an image export not yet finished (its
 * source photo) still refers to it. Out: {"id":N,"blobs_removed":N,"kept_for_exports":N}, the
 * last the unfinished exports that keep the blob. */
int cairn_asset_delete(cairn_vault* vault, int64_t id, char** out_report);
/* The bytes of blob `hash` (64 hex digits), every chunk authenticated and the whole checked
 * against the hash; CAIRN_NOT_FOUND if the vault has no such blob. Free with cairn_free. */
int cairn_blob_read(cairn_vault* vault, const char* hash, uint8_t** out_data, size_t* out_size);

/* The HQ-export outbox (the sync engine drives the states). Out: the job as JSON {id, kind,
 * preset, state, idempotency_key, attempts, last_error, created_at_ms, updated_at_ms, payload,
 * draft_id}. `draft_id` (0: none) names the draft the job was made from: kept with the job on the
 * device, never sent (the payload goes to the server as is); CAIRN_NOT_FOUND if there is no such
 * draft. */
int cairn_job_enqueue(cairn_vault* vault, const char* kind, const char* preset,
                      const char* payload_json, int64_t draft_id, char** out_job);
int cairn_jobs_list(cairn_vault* vault, char** out_jobs);

/* The sync engine (sync/engine.h) over the vault's outbox, with the device's Ed25519 key (made
 * once and kept in the vault) signing every request. The host carries out what it returns:
 * out_instructions is a JSON array of
 *   {"type":"send","request_id":N,"method","target","headers":{...},"body"}   (already signed)
 *   {"type":"send","request_id":N,"method":"PUT","target","headers","body_blob":"<hash>"}: an
 *      image export's source upload; the body is the vault's blob <hash> (cairn_blob_read),
 *      already signed over those bytes
 *   {"type":"wake_at","at_ms":N}        {"type":"notify","job_id":N,"kind","message"}
 *   {"type":"rendition_saved","job_id":N,"asset_id":N,"name":"1080x1350"}
 *   {"type":"caption_saved","job_id":N,"asset_id":N}
 * (the engine's Store instructions are committed to the vault, each image export rendition
 * checked against its BLAKE2b-256 and saved as a "render" asset, and each HQ caption result
 * checked and saved as a "caption-hq" asset, before this returns). Events
 * (event_json): {"type":"app_start","online":bool} | {"type":"online"} | {"type":"offline"} |
 * {"type":"tick"} | {"type":"job_created","job_id":N} | {"type":"cancel_requested","job_id":N} |
 * {"type":"response","request_id":N,"status":N,"headers":{...},"body":"..."} |
 * {"type":"network_error","request_id":N,"reason":"..."}. Times are unix ms. */
typedef struct cairn_sync cairn_sync;
int cairn_sync_open(cairn_vault* vault, double seed, cairn_sync** out);
void cairn_sync_close(cairn_sync* sync);
/* The signed POST /v1/devices that registers this device (idempotent: send it at start). */
int cairn_sync_register_request(cairn_sync* sync, double now_ms, char** out_request);
int cairn_sync_handle(cairn_sync* sync, double now_ms, const char* event_json,
                      char** out_instructions);
/* A response whose body is bytes (a rendition is an image, not text): response_json is
 * {"request_id":N,"status":N,"headers":{...}} and the body is body[0..body_size). Use it for
 * every response; the "response" event of cairn_sync_handle takes text bodies only. */
int cairn_sync_respond(cairn_sync* sync, double now_ms, const char* response_json,
                       const uint8_t* body, size_t body_size, char** out_instructions);

/* Model packs. A pack is its manifest verified against its signature and the trusted keys
 * (hex Ed25519 public keys separated by whitespace or commas); nothing of a pack is stored or
 * loaded before that. Out-JSON: the manifest's summary (id, version, task, licence, files,
 * variants). */
int cairn_pack_open(const uint8_t* manifest, size_t manifest_size, const uint8_t* signature,
                    size_t signature_size, const char* trusted_keys, cairn_pack** out,
                    char** out_summary);
void cairn_pack_close(cairn_pack* pack);
/* Streams one of the pack's files into the vault's blob store, checking its size as it arrives
 * (too many bytes fail at once) and its BLAKE2b-256 at commit: a file that does not match its
 * signed manifest is refused (CAIRN_AUTH_FAILED, naming the file) and nothing of it is kept. */
int cairn_model_file_writer_open(cairn_vault* vault, const cairn_pack* pack,
                                 const char* file_name, cairn_model_file_writer** out);
int cairn_model_file_writer_append(cairn_model_file_writer* writer, const uint8_t* data,
                                   size_t size);
int cairn_model_file_writer_commit(cairn_model_file_writer* writer);
void cairn_model_file_writer_close(cairn_model_file_writer* writer);
/* Downloads that go on after a restart or reload: the writer opened for a file goes on from
 * its last checkpoint (size and hash checks included), so fetch the rest from
 * cairn_model_file_writer_offset (bytes it holds; 0 for a fresh start). A checkpoint syncs what
 * was appended and records it in the vault; a writer closed uncommitted after one keeps it,
 * one refused by the manifest keeps nothing. */
int cairn_model_file_writer_checkpoint(cairn_model_file_writer* writer);
double cairn_model_file_writer_offset(const cairn_model_file_writer* writer);
/* Records the pack as installed (after every file it needs is committed). */
int cairn_pack_install(cairn_vault* vault, const cairn_pack* pack);
/* Installed models: JSON array of {id, version, task, licence, commercial_use, state, bytes}. */
int cairn_models_list(cairn_vault* vault, char** out_models);
/* The workspace the licence policy applies: {"commercial":bool}, a vault setting (personal until
 * marked commercial). In a commercial workspace a pack whose licence does not allow commercial
 * use (manifest licence.commercial_use false, e.g. LicenseRef-unknown) is refused at download
 * (cairn_model_file_writer_open) and at load (cairn_pack_open_installed) with
 * CAIRN_PERMISSION_DENIED, the message naming the model, its licence and what to do. */
int cairn_workspace_get(cairn_vault* vault, char** out_workspace);
int cairn_workspace_set(cairn_vault* vault, int commercial);
/* Opens an installed pack from the vault (its stored manifest and signature, re-verified; the
 * licence checked against the workspace). */
int cairn_pack_open_installed(cairn_vault* vault, const char* model_id,
                              const char* trusted_keys, cairn_pack** out, char** out_summary);
/* Reads one of an installed pack's files from the vault by its manifest hash: every chunk is
 * authenticated and the whole file must hash to the signed manifest's value. Free with
 * cairn_free. */
int cairn_pack_read_file(cairn_vault* vault, const cairn_pack* pack, const char* file_name,
                         uint8_t** out_data, size_t* out_size);

/* Text embedding (embedding packs with a word vocabulary, models/README.md) driven by the host,
 * which runs the model; the core turns text into word ids (cairn-words/1, core/tokenizer/words.h:
 * the same code natively and in wasm), stores each draft's vector and ranks. */
typedef struct cairn_word_vocab cairn_word_vocab;
/* The word vocabulary of an installed embedding pack: the manifest's text.vocab file, read from
 * the vault and verified against the signed manifest (CAIRN_AUTH_FAILED if it differs); the rule
 * must be cairn-words/1 (CAIRN_UNSUPPORTED otherwise). */
int cairn_word_vocab_open(cairn_vault* vault, const cairn_pack* pack, cairn_word_vocab** out);
void cairn_word_vocab_close(cairn_word_vocab* vocab);
/* The ids of text's content words, in order, stopwords left out (WordVocab::EncodeContent): the
 * model's input_ids for one text. int32 array freed with cairn_free; count 0: no known word. */
int cairn_word_vocab_encode(const cairn_word_vocab* vocab, const char* text, int32_t** out_ids,
                            size_t* out_count);
/* Hashtag suggestions (core/search/hashtags.h): the bank's candidate word ids (at most
 * max_words, int32, freed with cairn_free); the host embeds each as a one-word text and hands
 * the vectors back, count rows of dims floats in the same order. */
int cairn_hashtag_bank_ids(cairn_word_vocab* vocab, size_t max_words, int32_t** out_ids,
                           size_t* out_count);
int cairn_hashtag_bank_set_vectors(cairn_word_vocab* vocab, const float* vectors, size_t count,
                                   size_t dims);
/* Up to `limit` hashtags for `text` from its vector: JSON [{"hashtag":"#sunset","score":0.71}],
 * best first, leaving out words the text already has. */
int cairn_hashtags_suggest(const cairn_word_vocab* vocab, const char* text, const float* vector,
                           size_t dims, int limit, char** out_suggestions);
/* Drafts to embed with model `model_id` (new, edited, or saved before it was installed), oldest
 * first: JSON [{"draft_id":N,"version":N,"text":"..."}]. */
int cairn_draft_vectors_pending(cairn_vault* vault, const char* model_id, int limit,
                                char** out_pending);
/* Stores a draft's vector (of the pending entry's version; CAIRN_FAILED_PRECONDITION if the
 * draft has been saved since). */
int cairn_draft_vector_put(cairn_vault* vault, int64_t draft_id, int64_t version,
                           const char* model_id, const float* vector, size_t dims);
/* Full-text search fused with search by meaning (Vault::SearchDraftsHybrid): `vector` is the
 * query's embedding by `model_id` (dims 0: full text only). Hits: [{draft_id, score, snippet,
 * match}], match "text" | "meaning" | "both". */
int cairn_drafts_search_hybrid(cairn_vault* vault, const char* query, const char* model_id,
                               const float* vector, size_t dims, int limit, char** out_hits);

/* Captions (core/engine/caption_engine.h) driven by the host, which runs the model: */
/* a model over an installed caption-lm pack; `vocab_size` is the width of the model's logits. */
int cairn_caption_model_create(cairn_vault* vault, const cairn_pack* pack, const char* variant,
                               int vocab_size, cairn_caption_model** out);
void cairn_caption_model_close(cairn_caption_model* model);
/* request_json: {task, context, style, output_format, count, max_chars, max_hashtags,
 * emoji_required, banned, preset, seed}. */
int cairn_caption_start(cairn_caption_model* model, const char* request_json,
                        cairn_caption_session** out);
int cairn_caption_done(const cairn_caption_session* session);
/* The next step's input ids (valid until the next call on the session) and how many tokens the
 * host's KV cache already holds for it. */
int cairn_caption_next_feeds(cairn_caption_session* session, const int32_t** out_ids,
                             size_t* out_count, int64_t* out_past_length);
/* The last position's logits (vocab_size floats; modified in place). Out: text this step
 * completed (possibly empty). */
int cairn_caption_consume(cairn_caption_session* session, float* logits, size_t count,
                          char** out_text);
void cairn_caption_cancel(cairn_caption_session* session);
/* After done: the checked captions and provenance naming `backend` (what actually ran). */
int cairn_caption_finish(cairn_caption_session* session, const char* backend,
                         char** out_result);
void cairn_caption_close(cairn_caption_session* session);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_API_CAIRN_API_H_ */
