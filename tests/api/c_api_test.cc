// The C ABI natively: the same calls the browser's core worker makes, with the vault on the
// POSIX VFS and the model run by native ONNX Runtime standing in for ONNX Runtime Web.
#include "api/cairn_api.h"

#include <catch_amalgamated.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/bytes.h"
#include "core/runtime/ort_decoder.h"
#include "core/runtime/pack_dir.h"
#include "tests/support/test_packs.h"

namespace cairn {
namespace {

using nlohmann::json;
using testing::TempDir;

// Takes ownership of a string the ABI returned.
json TakeJson(char* s) {
  REQUIRE(s != nullptr);
  json j = json::parse(s);
  cairn_free(s);
  return j;
}

std::string LastError() { return cairn_last_error_message(); }

std::string Hex(ByteView b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) s += {d[c >> 4], d[c & 15]};
  return s;
}

struct Vault {
  cairn_vault* v = nullptr;
  ~Vault() { cairn_vault_close(v); }
};

TEST_CASE("the C ABI creates, opens and refuses a wrong passphrase with a stable code") {
  TempDir dir;
  const std::string path = dir / "vault";
  int exists = -1;
  REQUIRE(cairn_vault_exists(path.c_str(), &exists) == CAIRN_OK);
  CHECK(exists == 0);
  Vault a;
  CHECK(cairn_vault_create(path.c_str(), "short", &a.v) == CAIRN_INVALID_ARGUMENT);
  CHECK(LastError().find("8 characters") != std::string::npos);
  REQUIRE(cairn_vault_create(path.c_str(), "correct horse", &a.v) == CAIRN_OK);
  REQUIRE(cairn_vault_exists(path.c_str(), &exists) == CAIRN_OK);
  CHECK(exists == 1);

  char* out = nullptr;
  REQUIRE(cairn_draft_save(a.v, 0,
                           R"({"caption":"Golden hour on the pier","hashtags":["#sunset"],
                               "prompt":{"task":"t","context":"pier at sunset","style":"warm"}})",
                           &out) == CAIRN_OK);
  json d = TakeJson(out);
  CHECK(d["version"] == 1);
  const int64_t id = d["id"];
  REQUIRE(cairn_draft_save(a.v, id, R"({"caption":"Golden hour, again","hashtags":[]})", &out) ==
          CAIRN_OK);
  CHECK(TakeJson(out)["version"] == 2);
  CHECK(cairn_draft_save(a.v, 0, R"({"caption":"x","colour":"red"})", &out) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(LastError().find("colour") != std::string::npos);
  CHECK(cairn_draft_save(a.v, 0, "not json", &out) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_draft_get(a.v, 999, &out) == CAIRN_NOT_FOUND);
  cairn_vault_close(a.v);
  a.v = nullptr;

  Vault b;
  CHECK(cairn_vault_open(path.c_str(), "wrong horse", &b.v) == CAIRN_WRONG_PASSPHRASE);
  CHECK(cairn_last_error_code() == CAIRN_WRONG_PASSPHRASE);
  CHECK(LastError().find("wrong passphrase") != std::string::npos);
  CHECK(b.v == nullptr);
  REQUIRE(cairn_vault_open(path.c_str(), "correct horse", &b.v) == CAIRN_OK);
  REQUIRE(cairn_drafts_list(b.v, 10, 0, &out) == CAIRN_OK);
  json list = TakeJson(out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["caption"] == "Golden hour, again");
  REQUIRE(cairn_drafts_search(b.v, "golden", 10, &out) == CAIRN_OK);
  CHECK(TakeJson(out).size() == 1);
  // The outbox: a job is durable with its idempotency key from the moment it is queued.
  CHECK(cairn_job_enqueue(b.v, "caption-hq", "ultra", "{}", 0, &out) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_job_enqueue(b.v, "caption-hq", "final", "[1]", 0, &out) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_job_enqueue(b.v, "caption-hq", "final", "{}", 999, &out) == CAIRN_NOT_FOUND);
  REQUIRE(cairn_job_enqueue(b.v, "caption-hq", "final", R"({"task":"t"})", 0, &out) == CAIRN_OK);
  CHECK(TakeJson(out)["draft_id"].is_null());
  // The draft a job came from stays with the job on the device, outside the payload the
  // server gets.
  REQUIRE(cairn_job_enqueue(b.v, "caption-hq", "final", R"({"task":"t"})", id, &out) == CAIRN_OK);
  json job = TakeJson(out);
  CHECK(job["state"] == "queued");
  CHECK(job["draft_id"] == id);
  CHECK(job["payload"] == json{{"task", "t"}});
  CHECK(job["idempotency_key"].get<std::string>().size() >= 16);
  REQUIRE(cairn_jobs_list(b.v, &out) == CAIRN_OK);
  json jobs = TakeJson(out);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[1]["draft_id"] == id);
  REQUIRE(cairn_vault_check(b.v, &out) == CAIRN_OK);
  CHECK(std::string(out) == "ok");
  cairn_free(out);
  CHECK(cairn_vault_open((dir / "nowhere").c_str(), "correct horse", &b.v) == CAIRN_NOT_FOUND);
}

TEST_CASE("the C ABI opens a device-key vault; a wrong key fails like a wrong passphrase") {
  TempDir dir;
  const std::string path = dir / "vault";
  Bytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  Vault a;
  CHECK(cairn_vault_create_with_device_key(path.c_str(), key.data(), 16, &a.v) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(LastError().find("32 bytes") != std::string::npos);
  CHECK(cairn_vault_create_with_device_key(path.c_str(), nullptr, 32, &a.v) ==
        CAIRN_INVALID_ARGUMENT);
  REQUIRE(cairn_vault_create_with_device_key(path.c_str(), key.data(), key.size(), &a.v) ==
          CAIRN_OK);
  char* out = nullptr;
  REQUIRE(cairn_draft_save(a.v, 0, R"({"caption":"Kept by this device","hashtags":[]})", &out) ==
          CAIRN_OK);
  cairn_free(out);
  cairn_vault_close(a.v);
  a.v = nullptr;
  // A second vault in the same place is refused, whichever way it would be unlocked.
  CHECK(cairn_vault_create_with_device_key(path.c_str(), key.data(), key.size(), &a.v) ==
        CAIRN_ALREADY_EXISTS);

  REQUIRE(cairn_vault_unlock_kinds(path.c_str(), &out) == CAIRN_OK);
  CHECK(TakeJson(out) == json{{"passphrase", false}, {"device_key", true}});
  CHECK(cairn_vault_unlock_kinds((dir / "nowhere").c_str(), &out) == CAIRN_NOT_FOUND);

  Vault b;
  Bytes wrong = key;
  wrong[31] ^= 1;
  CHECK(cairn_vault_open_with_device_key(path.c_str(), wrong.data(), wrong.size(), &b.v) ==
        CAIRN_WRONG_PASSPHRASE);
  CHECK(LastError().find("device key does not unlock") != std::string::npos);
  CHECK(b.v == nullptr);
  // A passphrase cannot open a device-key vault: the error says which kind it has.
  CHECK(cairn_vault_open(path.c_str(), "correct horse", &b.v) == CAIRN_FAILED_PRECONDITION);
  CHECK(LastError().find("device key") != std::string::npos);
  REQUIRE(cairn_vault_open_with_device_key(path.c_str(), key.data(), key.size(), &b.v) ==
          CAIRN_OK);
  REQUIRE(cairn_drafts_list(b.v, 10, 0, &out) == CAIRN_OK);
  json list = TakeJson(out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["caption"] == "Kept by this device");
  CHECK(cairn_vault_open_with_device_key((dir / "nowhere").c_str(), key.data(), key.size(),
                                         &b.v) == CAIRN_NOT_FOUND);

  // And the other way round: a passphrase vault names its kind and refuses a device key.
  const std::string other = dir / "other";
  Vault c;
  REQUIRE(cairn_vault_create(other.c_str(), "correct horse", &c.v) == CAIRN_OK);
  REQUIRE(cairn_vault_unlock_kinds(other.c_str(), &out) == CAIRN_OK);
  CHECK(TakeJson(out) == json{{"passphrase", true}, {"device_key", false}});
  cairn_vault_close(c.v);
  c.v = nullptr;
  CHECK(cairn_vault_open_with_device_key(other.c_str(), key.data(), key.size(), &c.v) ==
        CAIRN_FAILED_PRECONDITION);
  CHECK(LastError().find("passphrase") != std::string::npos);
}

struct Pack {
  cairn_pack* p = nullptr;
  ~Pack() { cairn_pack_close(p); }
};

// Streams DIR/NAME into the vault in uneven pieces, as a download would arrive.
int Download(cairn_vault* v, cairn_pack* pack, const std::string& dir, const std::string& name,
             const Bytes* replace = nullptr) {
  const Bytes data = replace ? *replace : testing::ReadFileBytes(dir + "/" + name);
  cairn_model_file_writer* w = nullptr;
  int rc = cairn_model_file_writer_open(v, pack, name.c_str(), &w);
  for (size_t off = 0; rc == CAIRN_OK && off < data.size(); off += 70001) {
    rc = cairn_model_file_writer_append(w, data.data() + off,
                                        std::min<size_t>(70001, data.size() - off));
  }
  if (rc == CAIRN_OK) rc = cairn_model_file_writer_commit(w);
  cairn_model_file_writer_close(w);
  return rc;
}

TEST_CASE("model packs install verified into the vault and drive captions through the ABI") {
  TempDir dir;
  auto sp = testing::MakeSignedPack(dir, "tiny-llama");
  const Bytes manifest = testing::ReadFileBytes(sp.dir + "/manifest.json");
  const Bytes sig = testing::ReadFileBytes(sp.dir + "/manifest.sig");
  const std::string key = Hex(sp.key.public_key);
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);

  // An unknown signer is refused before anything is stored.
  Pack untrusted;
  const std::string other = Hex(crypto::GenerateSigningKeyPair().public_key);
  CHECK(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), other.c_str(),
                        &untrusted.p, nullptr) != CAIRN_OK);
  CHECK(untrusted.p == nullptr);
  CHECK(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), "",
                        &untrusted.p, nullptr) == CAIRN_FAILED_PRECONDITION);

  Pack pack;
  char* summary = nullptr;
  REQUIRE(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), key.c_str(),
                          &pack.p, &summary) == CAIRN_OK);
  json s = TakeJson(summary);
  CHECK(s["id"] == "cairn-test-tiny-llama");

  // A tampered model file is refused at commit and nothing of it is kept.
  Bytes tampered = testing::ReadFileBytes(sp.dir + "/model.onnx");
  tampered[tampered.size() / 2] ^= 1;
  CHECK(Download(v.v, pack.p, sp.dir, "model.onnx", &tampered) == CAIRN_AUTH_FAILED);
  CHECK(LastError().find("model.onnx") != std::string::npos);
  CHECK(LastError().find("signed manifest") != std::string::npos);
  Bytes longer = testing::ReadFileBytes(sp.dir + "/tokenizer.json");
  longer.push_back('x');
  CHECK(Download(v.v, pack.p, sp.dir, "tokenizer.json", &longer) != CAIRN_OK);
  CHECK(Download(v.v, pack.p, sp.dir, "no-such-file", nullptr) == CAIRN_NOT_FOUND);

  REQUIRE(Download(v.v, pack.p, sp.dir, "model.onnx") == CAIRN_OK);
  REQUIRE(Download(v.v, pack.p, sp.dir, "tokenizer.json") == CAIRN_OK);
  REQUIRE(cairn_pack_install(v.v, pack.p) == CAIRN_OK);
  char* out = nullptr;
  REQUIRE(cairn_models_list(v.v, &out) == CAIRN_OK);
  json models = TakeJson(out);
  REQUIRE(models.size() == 1);
  CHECK(models[0]["state"] == "installed");

  Pack installed;
  REQUIRE(cairn_pack_open_installed(v.v, "cairn-test-tiny-llama", key.c_str(), &installed.p,
                                    nullptr) == CAIRN_OK);
  CHECK(cairn_pack_open_installed(v.v, "cairn-test-tiny-llama", other.c_str(), &untrusted.p,
                                  nullptr) != CAIRN_OK);
  uint8_t* onnx = nullptr;
  size_t onnx_size = 0;
  REQUIRE(cairn_pack_read_file(v.v, installed.p, "model.onnx", &onnx, &onnx_size) == CAIRN_OK);
  const Bytes model_bytes(onnx, onnx + onnx_size);
  cairn_free(onnx);
  CHECK(model_bytes == testing::ReadFileBytes(sp.dir + "/model.onnx"));

  // The host runs the model (native ORT here; ONNX Runtime Web in the browser).
  const model::Manifest m = runtime::LoadPackDir(sp.dir, sp.trust, {}, "webgpu-fp32")->manifest;
  auto decoder = runtime::OrtDecoder::Load(model_bytes, *m.FindVariant("webgpu-fp32")).value();
  cairn_caption_model* cm = nullptr;
  REQUIRE(cairn_caption_model_create(v.v, installed.p, "webgpu-fp32", decoder->vocab_size(), &cm) ==
          CAIRN_OK);
  cairn_caption_session* session = nullptr;
  CHECK(cairn_caption_start(cm, R"({"count":2,"preset":"lowest"})", &session) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_caption_start(cm, R"({"count":2,"flavour":1})", &session) == CAIRN_INVALID_ARGUMENT);
  CHECK(LastError().find("flavour") != std::string::npos);
  REQUIRE(cairn_caption_start(cm, R"({"task":"Write 2 captions","context":"pier at sunset",
                                      "style":"warm","count":2,"max_chars":24,"preset":"low",
                                      "seed":3})",
                              &session) == CAIRN_OK);
  auto seq = decoder->NewSequence().value();
  std::string streamed;
  while (!cairn_caption_done(session)) {
    const int32_t* ids = nullptr;
    size_t n = 0;
    int64_t past = -1;
    REQUIRE(cairn_caption_next_feeds(session, &ids, &n, &past) == CAIRN_OK);
    generation::Feeds f{std::vector<int64_t>(ids, ids + n), past};
    std::span<float> logits = seq->Run(f).value();
    char* text = nullptr;
    REQUIRE(cairn_caption_consume(session, logits.data(), logits.size(), &text) == CAIRN_OK);
    streamed += text;
    cairn_free(text);
  }
  REQUIRE(cairn_caption_finish(session, "ort-native-cpu", &out) == CAIRN_OK);
  json r = TakeJson(out);
  cairn_caption_close(session);
  cairn_caption_model_close(cm);
  CHECK(r["captions"].size() == 2);
  CHECK(r["provenance"]["backend"] == "ort-native-cpu");
  CHECK(r["provenance"]["model_id"] == "cairn-test-tiny-llama");
  CHECK(r["provenance"]["model_checksum"] == m.FindFile("model.onnx")->blake2b);
  CHECK(r["provenance"]["quantization"] == "fp32");
  CHECK(!streamed.empty());
}

TEST_CASE("a model download goes on from its last checkpoint after a restart, checks included") {
  TempDir dir;
  auto sp = testing::MakeSignedPack(dir, "tiny-llama");
  const Bytes manifest = testing::ReadFileBytes(sp.dir + "/manifest.json");
  const Bytes sig = testing::ReadFileBytes(sp.dir + "/manifest.sig");
  const std::string key = Hex(sp.key.public_key);
  const std::string path = dir / "vault";
  const Bytes data = testing::ReadFileBytes(sp.dir + "/model.onnx");
  const size_t part = data.size() * 2 / 3;
  REQUIRE(part > 2 * 64 * 1024);  // whole 64 KiB blob chunks are checkpointed, and a tail
  auto append = [](cairn_model_file_writer* w, const Bytes& bytes, size_t from, size_t to) {
    return cairn_model_file_writer_append(w, bytes.data() + from, to - from);
  };
  {
    Vault v;
    REQUIRE(cairn_vault_create(path.c_str(), "correct horse", &v.v) == CAIRN_OK);
    Pack pack;
    REQUIRE(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), key.c_str(),
                            &pack.p, nullptr) == CAIRN_OK);
    cairn_model_file_writer* w = nullptr;
    REQUIRE(cairn_model_file_writer_open(v.v, pack.p, "model.onnx", &w) == CAIRN_OK);
    CHECK(cairn_model_file_writer_offset(w) == 0);
    REQUIRE(append(w, data, 0, part) == CAIRN_OK);
    REQUIRE(cairn_model_file_writer_checkpoint(w) == CAIRN_OK);
    REQUIRE(append(w, data, part, part + 1000) == CAIRN_OK);  // after the checkpoint: not kept
    cairn_model_file_writer_close(w);
  }
  Vault v;  // the app starts again
  REQUIRE(cairn_vault_open(path.c_str(), "correct horse", &v.v) == CAIRN_OK);
  Pack pack;
  REQUIRE(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), key.c_str(),
                          &pack.p, nullptr) == CAIRN_OK);
  cairn_model_file_writer* w = nullptr;
  REQUIRE(cairn_model_file_writer_open(v.v, pack.p, "model.onnx", &w) == CAIRN_OK);
  REQUIRE(cairn_model_file_writer_offset(w) == static_cast<double>(part));
  SECTION("the rest completes a file that passes the manifest's checks") {
    REQUIRE(append(w, data, part, data.size()) == CAIRN_OK);
    REQUIRE(cairn_model_file_writer_commit(w) == CAIRN_OK);
    cairn_model_file_writer_close(w);
    REQUIRE(Download(v.v, pack.p, sp.dir, "tokenizer.json") == CAIRN_OK);
    REQUIRE(cairn_pack_install(v.v, pack.p) == CAIRN_OK);
    uint8_t* onnx = nullptr;
    size_t onnx_size = 0;
    REQUIRE(cairn_pack_read_file(v.v, pack.p, "model.onnx", &onnx, &onnx_size) == CAIRN_OK);
    CHECK(Bytes(onnx, onnx + onnx_size) == data);
    cairn_free(onnx);
  }
  SECTION("a continuation that does not match is refused, and the next try starts from 0") {
    Bytes wrong = data;
    wrong[part + 10] ^= 1;
    REQUIRE(append(w, wrong, part, wrong.size()) == CAIRN_OK);
    CHECK(cairn_model_file_writer_commit(w) == CAIRN_AUTH_FAILED);
    CHECK(LastError().find("signed manifest") != std::string::npos);
    cairn_model_file_writer_close(w);
    REQUIRE(cairn_model_file_writer_open(v.v, pack.p, "model.onnx", &w) == CAIRN_OK);
    CHECK(cairn_model_file_writer_offset(w) == 0);
    cairn_model_file_writer_close(w);
  }
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// The sync engine through the ABI, against a scripted server: the job is submitted signed, and
// the engine's states are committed to the vault before the instructions come back.
// Installs test pack NAME through the ABI (verified download of every file, then install).
void InstallPack(cairn_vault* v, const testing::SignedPack& sp, const std::string& key) {
  const Bytes manifest = testing::ReadFileBytes(sp.dir + "/manifest.json");
  const Bytes sig = testing::ReadFileBytes(sp.dir + "/manifest.sig");
  Pack pack;
  REQUIRE(cairn_pack_open(manifest.data(), manifest.size(), sig.data(), sig.size(), key.c_str(),
                          &pack.p, nullptr) == CAIRN_OK);
  const json m = json::parse(std::string(manifest.begin(), manifest.end()));
  for (const json& f : m["files"]) {
    REQUIRE(Download(v, pack.p, sp.dir, f["name"].get<std::string>()) == CAIRN_OK);
  }
  REQUIRE(cairn_pack_install(v, pack.p) == CAIRN_OK);
}

TEST_CASE("the text ABI: content-word ids from the verified vocabulary, vectors, fused search") {
  TempDir dir;
  auto sp = testing::MakeSignedPack(dir, "tiny-topics");
  const std::string key = Hex(sp.key.public_key);
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  InstallPack(v.v, sp, key);
  Pack pack;
  char* summary = nullptr;
  REQUIRE(cairn_pack_open_installed(v.v, "cairn-test-tiny-topics", key.c_str(), &pack.p,
                                    &summary) == CAIRN_OK);
  const json s = TakeJson(summary);
  CHECK(s["task"] == "embedding");
  CHECK(s["text"]["vocab"] == "vocab.txt");
  cairn_word_vocab* vocab = nullptr;
  REQUIRE(cairn_word_vocab_open(v.v, pack.p, &vocab) == CAIRN_OK);
  int32_t* ids = nullptr;
  size_t n = 0;
  // "at" is a stopword; "Ocean", "waves", "dusk" are words 12, 13, 18 of vocab.txt.
  REQUIRE(cairn_word_vocab_encode(vocab, "Ocean waves at dusk!", &ids, &n) == CAIRN_OK);
  CHECK(std::vector<int32_t>(ids, ids + n) == std::vector<int32_t>{12, 13, 18});
  cairn_free(ids);
  // The hashtag bank: candidates without stopwords; suggestions need its vectors first.
  REQUIRE(cairn_hashtag_bank_ids(vocab, 1000, &ids, &n) == CAIRN_OK);
  CHECK(n == 23);
  cairn_free(ids);
  const float q[2] = {1, 0};
  char* out = nullptr;
  CHECK(cairn_hashtags_suggest(vocab, "x", q, 2, 5, &out) == CAIRN_FAILED_PRECONDITION);
  CHECK(cairn_hashtag_bank_set_vectors(vocab, q, 1, 2) == CAIRN_INVALID_ARGUMENT);
  cairn_word_vocab_close(vocab);

  // Draft vectors: pending, stored, searched.
  REQUIRE(cairn_draft_save(v.v, 0, R"({"caption":"Beach sunset","hashtags":[]})", &out) ==
          CAIRN_OK);
  cairn_free(out);
  REQUIRE(cairn_draft_vectors_pending(v.v, "cairn-test-tiny-topics", 10, &out) == CAIRN_OK);
  json pending = TakeJson(out);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["text"] == "Beach sunset\n\n");
  const float vec[2] = {0.6f, 0.8f};
  REQUIRE(cairn_draft_vector_put(v.v, pending[0]["draft_id"].get<int64_t>(), pending[0]["version"].get<int64_t>(),
                                 "cairn-test-tiny-topics", vec, 2) == CAIRN_OK);
  CHECK(cairn_draft_vector_put(v.v, 1, 9, "cairn-test-tiny-topics", vec, 2) ==
        CAIRN_FAILED_PRECONDITION);
  REQUIRE(cairn_drafts_search_hybrid(v.v, "ocean", "cairn-test-tiny-topics", vec, 2, 10, &out) ==
          CAIRN_OK);
  json hits = TakeJson(out);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["match"] == "meaning");
  REQUIRE(cairn_drafts_search_hybrid(v.v, "beach", "", nullptr, 0, 10, &out) == CAIRN_OK);
  hits = TakeJson(out);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["match"] == "text");
}

TEST_CASE("the licence policy: a commercial workspace refuses a non-commercial pack, saying why") {
  TempDir dir;
  auto sp = testing::MakeSignedPack(dir, "tiny-image-tags");
  const std::string key = Hex(sp.key.public_key);
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  char* out = nullptr;
  REQUIRE(cairn_workspace_get(v.v, &out) == CAIRN_OK);
  CHECK(TakeJson(out)["commercial"] == false);  // personal until marked commercial
  InstallPack(v.v, sp, key);
  Pack pack;
  REQUIRE(cairn_pack_open_installed(v.v, "cairn-test-tiny-image-tags", key.c_str(), &pack.p,
                                    &out) == CAIRN_OK);
  const json s = TakeJson(out);
  CHECK(s["labels"].size() == 80);
  CHECK(s["labels"][16] == "dog");

  REQUIRE(cairn_workspace_set(v.v, 1) == CAIRN_OK);
  REQUIRE(cairn_workspace_get(v.v, &out) == CAIRN_OK);
  CHECK(TakeJson(out)["commercial"] == true);
  Pack refused;
  CHECK(cairn_pack_open_installed(v.v, "cairn-test-tiny-image-tags", key.c_str(), &refused.p,
                                  nullptr) == CAIRN_PERMISSION_DENIED);
  CHECK(refused.p == nullptr);
  CHECK(LastError().find("LicenseRef-unknown") != std::string::npos);
  CHECK(LastError().find("commercial") != std::string::npos);
  // A download is refused too, before any byte is stored.
  cairn_model_file_writer* w = nullptr;
  CHECK(cairn_model_file_writer_open(v.v, pack.p, "model.onnx", &w) == CAIRN_PERMISSION_DENIED);
  CHECK(w == nullptr);
  REQUIRE(cairn_workspace_set(v.v, 0) == CAIRN_OK);
  Pack again;
  CHECK(cairn_pack_open_installed(v.v, "cairn-test-tiny-image-tags", key.c_str(), &again.p,
                                  nullptr) == CAIRN_OK);
}

TEST_CASE("the sync ABI signs what it sends and commits the outbox before returning") {
  TempDir dir;
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  cairn_sync* s = nullptr;
  REQUIRE(cairn_sync_open(v.v, 7, &s) == CAIRN_OK);
  char* out = nullptr;
  REQUIRE(cairn_sync_register_request(s, 1.7e12, &out) == CAIRN_OK);
  json reg = TakeJson(out);
  CHECK(reg["method"] == "POST");
  CHECK(reg["target"] == "/v1/devices");
  const std::string device = reg["headers"]["Cairn-Device"];
  CHECK(device.size() == 32);
  CHECK(reg["headers"].contains("Cairn-Signature"));

  REQUIRE(cairn_sync_handle(s, 1.7e12, R"({"type":"app_start","online":true})", &out) == CAIRN_OK);
  TakeJson(out);
  REQUIRE(cairn_job_enqueue(v.v, "caption-hq", "final", R"({"task":"t"})", 0, &out) == CAIRN_OK);
  const int64_t job = TakeJson(out)["id"];
  const std::string created = R"({"type":"job_created","job_id":)" + std::to_string(job) + "}";
  REQUIRE(cairn_sync_handle(s, 1.7e12, created.c_str(), &out) == CAIRN_OK);
  json ins = TakeJson(out);
  json send;
  for (const json& i : ins) {
    if (i["type"] == "send") send = i;
  }
  REQUIRE(send.is_object());
  CHECK(send["method"] == "POST");
  CHECK(send["target"] == "/v1/jobs");
  CHECK(send["headers"]["Cairn-Device"] == device);  // the same device key, kept in the vault
  // Committed before the Send came back: the outbox already says it is being sent.
  REQUIRE(cairn_jobs_list(v.v, &out) == CAIRN_OK);
  CHECK(TakeJson(out)[0]["state"] == "sending");

  const std::string refused = R"({"type":"response","request_id":)" +
                              std::to_string(send["request_id"].get<int64_t>()) +
                              R"(,"status":400,"headers":{"Content-Type":"application/json"},)"
                              R"("body":"{\"error\":{\"code\":\"bad_payload\",\"message\":\"no task\"}}"})";
  REQUIRE(cairn_sync_handle(s, 1.7e12 + 10, refused.c_str(), &out) == CAIRN_OK);
  json after = TakeJson(out);
  bool notified = false;
  for (const json& i : after) notified |= i["type"] == "notify" && i["kind"] == "failed";
  CHECK(notified);
  REQUIRE(cairn_jobs_list(v.v, &out) == CAIRN_OK);
  json jobs = TakeJson(out);
  CHECK(jobs[0]["state"] == "failed");
  CHECK(cairn_sync_handle(s, 1.7e12, R"({"type":"teleport"})", &out) == CAIRN_INVALID_ARGUMENT);
  cairn_sync_close(s);

  // Reopened, the device keeps its identity.
  REQUIRE(cairn_sync_open(v.v, 8, &s) == CAIRN_OK);
  REQUIRE(cairn_sync_register_request(s, 1.7e12, &out) == CAIRN_OK);
  CHECK(TakeJson(out)["headers"]["Cairn-Device"] == device);
  cairn_sync_close(s);
}

// Every instruction of `type` in an ABI answer.
std::vector<json> OfType(const json& ins, const char* type) {
  std::vector<json> v;
  for (const json& i : ins) {
    if (i["type"] == type) v.push_back(i);
  }
  return v;
}

json Respond(cairn_sync* s, int64_t request_id, int status, const std::string& body,
             const char* type = "application/json") {
  const std::string head = json{{"request_id", request_id}, {"status", status},
                                {"headers", {{"Content-Type", type}}}}.dump();
  char* out = nullptr;
  REQUIRE(cairn_sync_respond(s, 1.7e12, head.c_str(),
                             reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                             &out) == CAIRN_OK);
  return TakeJson(out);
}

TEST_CASE("deleting a photo an unsent export needs keeps its bytes for the export and says so") {
  TempDir dir;
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  const std::string photo = "photo bytes";
  char* out = nullptr;
  REQUIRE(cairn_asset_add(v.v, R"({"kind":"photo","mime":"image/jpeg"})",
                          reinterpret_cast<const uint8_t*>(photo.data()), photo.size(),
                          &out) == CAIRN_OK);
  const json asset = TakeJson(out);
  const std::string hash = asset["blob_hash"];
  const std::string payload = R"({"source":")" + hash + R"(","sizes":["1080x1080"]})";
  REQUIRE(cairn_job_enqueue(v.v, "image-export", "final", payload.c_str(), 0, &out) == CAIRN_OK);
  cairn_free(out);

  REQUIRE(cairn_asset_delete(v.v, asset["id"].get<int64_t>(), &out) == CAIRN_OK);
  const json report = TakeJson(out);
  CHECK(report["blobs_removed"] == 0);
  CHECK(report["kept_for_exports"] == 1);
  uint8_t* data = nullptr;
  size_t size = 0;
  REQUIRE(cairn_blob_read(v.v, hash.c_str(), &data, &size) == CAIRN_OK);  // the upload can go on
  CHECK(std::string(reinterpret_cast<char*>(data), size) == photo);
  cairn_free(data);
}

TEST_CASE("the ABI: a photo asset, its upload before the export's POST, a binary rendition saved") {
  TempDir dir;
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  static const char kPhoto[] = "\x89PNG\r\n\x1a\n\0\xff photo";
  const std::string photo(kPhoto, sizeof kPhoto - 1);
  char* out = nullptr;
  const char* meta = R"({"kind":"photo","mime":"image/png","width":96,"height":64,)"
                     R"("details":{"tags":["dog"],"safety":{"unsafe":false,"top":"Neutral"}}})";
  REQUIRE(cairn_asset_add(v.v, meta, reinterpret_cast<const uint8_t*>(photo.data()), photo.size(),
                          &out) == CAIRN_OK);
  json asset = TakeJson(out);
  const std::string hash = asset["blob_hash"];
  CHECK(asset["kind"] == "photo");
  CHECK(asset["bytes"] == photo.size());
  CHECK(asset["details"]["tags"][0] == "dog");
  CHECK(cairn_asset_add(v.v, R"({"kind":"photo","mime":"image/png","colour":1})",
                        reinterpret_cast<const uint8_t*>(photo.data()), photo.size(),
                        &out) == CAIRN_INVALID_ARGUMENT);
  CHECK_THAT(LastError(), Catch::Matchers::ContainsSubstring("colour"));
  uint8_t* data = nullptr;
  size_t size = 0;
  REQUIRE(cairn_blob_read(v.v, hash.c_str(), &data, &size) == CAIRN_OK);
  CHECK(std::string(reinterpret_cast<char*>(data), size) == photo);
  cairn_free(data);
  CHECK(cairn_blob_read(v.v, std::string(64, 'e').c_str(), &data, &size) == CAIRN_NOT_FOUND);

  cairn_sync* s = nullptr;
  REQUIRE(cairn_sync_open(v.v, 7, &s) == CAIRN_OK);
  REQUIRE(cairn_sync_handle(s, 1.7e12, R"({"type":"app_start","online":true})", &out) == CAIRN_OK);
  TakeJson(out);
  const std::string payload = R"({"source":")" + hash + R"(","sizes":["1080x1080"]})";
  REQUIRE(cairn_job_enqueue(v.v, "image-export", "final", payload.c_str(), 0, &out) == CAIRN_OK);
  const int64_t job = TakeJson(out)["id"];
  const std::string created = R"({"type":"job_created","job_id":)" + std::to_string(job) + "}";
  REQUIRE(cairn_sync_handle(s, 1.7e12, created.c_str(), &out) == CAIRN_OK);
  json ins = TakeJson(out);
  std::vector<json> sends = OfType(ins, "send");
  REQUIRE(sends.size() == 1);  // the upload only: no POST before the source is there
  CHECK(sends[0]["method"] == "PUT");
  CHECK(sends[0]["target"] == "/v1/blobs/" + hash);
  CHECK(sends[0]["body_blob"] == hash);
  CHECK_FALSE(sends[0].contains("body"));
  CHECK(sends[0]["headers"].contains("Cairn-Signature"));

  ins = Respond(s, sends[0]["request_id"], 201, R"({"v":1,"blob":{"hash":")" + hash + R"("}})");
  sends = OfType(ins, "send");
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]["target"] == "/v1/jobs");
  const json submitted = json::parse(sends[0]["body"].get<std::string>());
  const std::string key = submitted["idempotency_key"];
  const std::string server_id = "0123456789abcdef0123456789abcdef";
  json view = {{"v", 1}, {"job", {{"id", server_id}, {"idempotency_key", key},
                                  {"kind", "image-export"}, {"preset", "final"},
                                  {"state", "done"}, {"seq", 3}, {"created_at", 1},
                                  {"updated_at", 2}}}};
  ins = Respond(s, sends[0]["request_id"], 201, view.dump());
  sends = OfType(ins, "send");
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]["target"] == "/v1/jobs/" + server_id + "/result");

  static const char kJpeg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0 rendered";
  const std::string jpeg(kJpeg, sizeof kJpeg - 1);
  char hash_hex[65] = {};
  {
    // The rendition's hash as the server lists it: BLAKE2b-256 of its bytes (the photo's
    // blob_hash above came from the same function in the vault).
    REQUIRE(cairn_asset_add(v.v, R"({"kind":"thumbnail","mime":"image/jpeg"})",
                            reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size(),
                            &out) == CAIRN_OK);
    const std::string h = TakeJson(out)["blob_hash"];
    std::copy(h.begin(), h.end(), hash_hex);
  }
  json result = {{"v", 1}, {"id", server_id},
                 {"result", {{"renditions", {{{"name", "1080x1080"}, {"width", 1080},
                                              {"height", 1080}, {"content_type", "image/jpeg"},
                                              {"bytes", jpeg.size()}, {"blake2b", hash_hex}}}},
                             {"source", {{"blake2b", hash}}},
                             {"provenance", {{"renderer", "cairn-server image-export/1"},
                                             {"libvips", "8.16.1"}, {"tier", "cloud"},
                                             {"preset", "final"}, {"rendered_at", 5}}}}}};
  ins = Respond(s, sends[0]["request_id"], 200, result.dump());
  sends = OfType(ins, "send");
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]["target"] == "/v1/jobs/" + server_id + "/result/1080x1080");
  // Bytes that are not valid UTF-8 cross as bytes, not JSON.
  ins = Respond(s, sends[0]["request_id"], 200, jpeg, "image/jpeg");
  std::vector<json> saved = OfType(ins, "rendition_saved");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0]["name"] == "1080x1080");
  CHECK(OfType(ins, "notify").at(0)["kind"] == "done");
  REQUIRE(cairn_assets_list(v.v, "render", 10, 0, &out) == CAIRN_OK);
  json renders = TakeJson(out);
  REQUIRE(renders.size() == 1);
  CHECK(renders[0]["id"] == saved[0]["asset_id"]);
  CHECK(renders[0]["provenance"]["model_id"] == "cairn-server image-export/1");
  CHECK(renders[0]["provenance"]["model_checksum"] == hash_hex);
  CHECK(renders[0]["details"]["job"] == job);
  REQUIRE(cairn_blob_read(v.v, hash_hex, &data, &size) == CAIRN_OK);
  CHECK(std::string(reinterpret_cast<char*>(data), size) == jpeg);
  cairn_free(data);
  REQUIRE(cairn_assets_list(v.v, "", 10, 0, &out) == CAIRN_OK);
  CHECK(TakeJson(out).size() == 3);
  REQUIRE(cairn_jobs_list(v.v, &out) == CAIRN_OK);
  CHECK(TakeJson(out)[0]["state"] == "done");
  cairn_sync_close(s);
}

TEST_CASE("the ABI: an HQ caption result saved as a caption-hq asset, listed, then deleted") {
  TempDir dir;
  Vault v;
  REQUIRE(cairn_vault_create((dir / "vault").c_str(), "correct horse", &v.v) == CAIRN_OK);
  char* out = nullptr;
  REQUIRE(cairn_draft_save(v.v, 0, R"({"caption":"Pier","hashtags":[]})", &out) == CAIRN_OK);
  const int64_t draft = TakeJson(out)["id"];
  cairn_sync* s = nullptr;
  REQUIRE(cairn_sync_open(v.v, 7, &s) == CAIRN_OK);
  REQUIRE(cairn_sync_handle(s, 1.7e12, R"({"type":"app_start","online":true})", &out) == CAIRN_OK);
  TakeJson(out);
  REQUIRE(cairn_job_enqueue(v.v, "caption-hq", "preview", R"({"task":"t"})", draft, &out) ==
          CAIRN_OK);
  const int64_t job = TakeJson(out)["id"];
  const std::string created = R"({"type":"job_created","job_id":)" + std::to_string(job) + "}";
  REQUIRE(cairn_sync_handle(s, 1.7e12, created.c_str(), &out) == CAIRN_OK);
  std::vector<json> sends = OfType(TakeJson(out), "send");
  REQUIRE(sends.size() == 1);
  const std::string key = json::parse(sends[0]["body"].get<std::string>())["idempotency_key"];
  const std::string server_id = "0123456789abcdef0123456789abcdef";
  json view = {{"v", 1}, {"job", {{"id", server_id}, {"idempotency_key", key},
                                  {"kind", "caption-hq"}, {"preset", "preview"},
                                  {"state", "done"}, {"seq", 3}, {"created_at", 1},
                                  {"updated_at", 2}}}};
  sends = OfType(Respond(s, sends[0]["request_id"], 201, view.dump()), "send");
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]["target"] == "/v1/jobs/" + server_id + "/result");
  const std::string hostile = "<img src=x onerror=alert(1)>";
  const std::string checksum(64, 'a');
  json result = {{"v", 1}, {"id", server_id},
                 {"result", {{"captions", {{{"text", hostile}}, {{"text", "Golden hour"}}}},
                             {"provenance", {{"model_id", "cairn-caption-starter"},
                                             {"model_version", "1.0.0"},
                                             {"model_checksum", checksum},
                                             {"quantization", "fp32"},
                                             {"backend", "ort-native-cpu"}, {"tier", "cloud"},
                                             {"preset", "final"},
                                             {"prompt_schema", "cairn.prompt/1"},
                                             {"seed", 7}}}}}};
  json ins = Respond(s, sends[0]["request_id"], 200, result.dump());
  std::vector<json> saved = OfType(ins, "caption_saved");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0]["job_id"] == job);
  CHECK(OfType(ins, "notify").at(0)["kind"] == "done");
  cairn_sync_close(s);

  REQUIRE(cairn_assets_list(v.v, "caption-hq", 10, 0, &out) == CAIRN_OK);
  json list = TakeJson(out);
  REQUIRE(list.size() == 1);
  const json& a = list[0];
  CHECK(a["id"] == saved[0]["asset_id"]);
  CHECK(a["mime"] == "application/json");
  CHECK(a["job_id"] == job);
  CHECK(a["draft_id"] == draft);
  CHECK(a["provenance"]["model_id"] == "cairn-caption-starter");
  CHECK(a["provenance"]["model_version"] == "1.0.0");
  CHECK(a["provenance"]["model_checksum"] == checksum);
  CHECK(a["provenance"]["quantization"] == "fp32");
  CHECK(a["provenance"]["backend"] == "ort-native-cpu");
  CHECK(a["provenance"]["tier"] == "cloud");
  CHECK(a["provenance"]["preset"] == "final");
  CHECK(a["details"]["job_preset"] == "preview");
  uint8_t* data = nullptr;
  size_t size = 0;
  const std::string hash = a["blob_hash"];
  REQUIRE(cairn_blob_read(v.v, hash.c_str(), &data, &size) == CAIRN_OK);
  const json stored = json::parse(std::string(reinterpret_cast<char*>(data), size));
  cairn_free(data);
  CHECK(stored["captions"][0]["text"] == hostile);  // kept as data, exactly
  CHECK(a["bytes"] == size);

  // Deleted: the row at once, its blob by the garbage collection that follows.
  const int64_t id = a["id"];
  REQUIRE(cairn_asset_delete(v.v, id, &out) == CAIRN_OK);
  json report = TakeJson(out);
  CHECK(report["id"] == id);
  CHECK(report["blobs_removed"] == 1);
  CHECK(report["kept_for_exports"] == 0);
  CHECK(cairn_blob_read(v.v, hash.c_str(), &data, &size) == CAIRN_NOT_FOUND);
  REQUIRE(cairn_assets_list(v.v, "", 10, 0, &out) == CAIRN_OK);
  CHECK(TakeJson(out).empty());
  CHECK(cairn_asset_delete(v.v, id, &out) == CAIRN_NOT_FOUND);
  CHECK_THAT(LastError(), Catch::Matchers::ContainsSubstring("no asset with id " +
                                                             std::to_string(id)));
  // The job stays done with its result: deleting the asset forgets only the copy.
  REQUIRE(cairn_jobs_list(v.v, &out) == CAIRN_OK);
  CHECK(TakeJson(out)[0]["state"] == "done");
}

}  // namespace
}  // namespace cairn
