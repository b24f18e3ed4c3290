// The sync engine's HQ captions: a done job's result checked as untrusted data, recorded, saved
// as a caption-hq asset with its provenance (a real encrypted vault as the outbox), then done;
// a restart between any two of those steps makes no second asset and fetches nothing again.
#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>

#include "sync/caption_hq_result.h"
#include "sync/engine.h"
#include "sync/vault_outbox.h"
#include "tests/sync/instructions.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

using nlohmann::json;

const std::string kServerId = "0123456789abcdef0123456789abcdef";
const std::string kChecksum = std::string(32, 'c') + std::string(32, '7');
const std::string kHostile = "<img src=x onerror=alert(1)>";

json ResultObject() {
  return {{"captions",
           {{{"text", "Golden hour on the pier"}, {"ok", true}, {"problems", json::array()},
             {"safety", {{"level", "clean"}, {"findings", json::array()}}}},
            {{"text", kHostile}, {"ok", true}, {"problems", json::array()},
             {"safety", {{"level", "clean"}, {"findings", json::array()}}}}}},
          {"problems", json::array()},
          {"provenance",
           {{"model_id", "cairn-caption-starter"}, {"model_version", "1.0.0"},
            {"model_checksum", kChecksum}, {"quantization", "fp32"},
            {"backend", "ort-native-cpu"}, {"tier", "cloud"}, {"preset", "final"},
            {"prompt_schema", "cairn.prompt/1"}, {"seed", 7}}},
          {"stats", {{"finish", "stop"}, {"total_ms", 812.5}}},
          {"hq", {{"rounds", 2}, {"candidates", 6}, {"seeds", {7, 8}}}}};
}

// The result as the outbox keeps it (parsed and written again by the protocol layer).
std::string Stored(const json& result) {
  return ParseResult(SerializeResult(JobResult{kServerId, result.dump()}).value())
      .value()
      .result_json;
}

HttpResponse Ok(std::string body, int status = 200) { return {status, {}, std::move(body)}; }

HttpResponse ResultBody(const json& result) {
  return Ok(SerializeResult(JobResult{kServerId, result.dump()}).value());
}

JobView View(const OutboxRecord& r, JobState state, int64_t seq = 1) {
  JobView v;
  v.id = kServerId;
  v.idempotency_key = r.idempotency_key;
  v.kind = JobKind::kCaptionHq;
  v.preset = r.preset;
  v.state = state;
  v.seq = seq;
  return v;
}

EngineOptions Seeded(uint64_t seed) {
  EngineOptions o;
  o.seed = seed;
  return o;
}

storage::VaultOptions FastOptions() {
  storage::VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

// Stores carried out on the vault; SaveCaptionResults too when `save` (a host killed just
// before it does not).
std::vector<Instruction> Apply(VaultOutbox& outbox, Result<std::vector<Instruction>> out,
                               bool save = true) {
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  for (const Instruction& i : *out) {
    if (auto* s = std::get_if<Store>(&i)) REQUIRE(outbox.Apply(*s).ok());
    if (auto* c = std::get_if<SaveCaptionResult>(&i); c && save) {
      REQUIRE(outbox.SaveCaptionResult(*c).ok());
    }
  }
  return *out;
}

// Takes a created job to the point where its result was asked for; returns that request.
Send ToResult(SyncEngine& engine, int64_t now, const OutboxRecord& job,
              VaultOutbox* outbox = nullptr) {
  auto run = [&](const Event& e) {
    return outbox ? Apply(*outbox, engine.Handle(now, e)) : engine.Handle(now, e).value();
  };
  Send post = One<Send>(run(JobCreated{job}));
  const HttpResponse accepted = Ok(SerializeJob(View(job, JobState::kAccepted)), 201);
  Send feed = One<Send>(run(Response{post.request_id, accepted}));
  const ChangesPage page{{View(job, JobState::kDone, 3)}, 3, false, {}};
  Send get = One<Send>(run(Response{feed.request_id, Ok(SerializeChanges(page))}));
  CHECK(get.request.target == "/v1/jobs/" + kServerId + "/result");
  return get;
}

OutboxRecord NewCaptionJob(int64_t id) {
  OutboxRecord r;
  r.id = id;
  r.idempotency_key = "caption-" + std::to_string(id) + "-0123456789abcdef";
  r.kind = JobKind::kCaptionHq;
  r.preset = Preset::kPreview;
  r.payload_json = R"({"task":"Write 2 captions"})";
  return r;
}

TEST_CASE("caption-hq: the result is recorded, handed over to save, then the job is done") {
  SyncEngine engine(Seeded(5));
  const int64_t now = 1'000'000;
  REQUIRE(engine.Handle(now, AppStart{{}, true}).ok());
  OutboxRecord job = NewCaptionJob(1);
  Send get = ToResult(engine, now, job);
  auto out = engine.Handle(now, Response{get.request_id, ResultBody(ResultObject())}).value();
  // In this order: recorded (still running), saved, done.
  REQUIRE(out.size() >= 4);
  Store recorded = std::get<Store>(out[0]);
  CHECK(recorded.job.state == JobState::kRunning);
  CHECK(recorded.job.result_json == Stored(ResultObject()));
  SaveCaptionResult save = std::get<SaveCaptionResult>(out[1]);
  CHECK(save.job_id == 1);
  CHECK(save.server_job_id == kServerId);
  CHECK(save.preset == Preset::kPreview);
  CHECK(save.result_json == Stored(ResultObject()));
  Store done = std::get<Store>(out[2]);
  CHECK(done.job.state == JobState::kDone);
  CHECK(done.job.result_json == save.result_json);
  CHECK(std::get<Notify>(out[3]).message == "Your HQ caption is ready");
  CHECK(All<Send>(out).empty());
  CHECK(engine.Find(1) == nullptr);
}

TEST_CASE("caption-hq: a result that is not one fails the job, naming the field; nothing saved") {
  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"no provenance", [](json& r) { r.erase("provenance"); }, "needs a 'provenance' object"},
      {"a caption that is not text", [](json& r) { r["captions"][1]["text"] = 42; },
       "caption 1: 'text' must be a string"},
      {"an unknown tier", [](json& r) { r["provenance"]["tier"] = "moon"; },
       "'provenance.tier' must be device, edge or cloud, not 'moon'"},
      {"a checksum that is not a hash", [](json& r) { r["provenance"]["model_checksum"] = "x"; },
       "'provenance.model_checksum' must be 64..64 bytes"},
      {"markup with a newline in the model id",
       [](json& r) { r["provenance"]["model_id"] = "<script>\nalert(1)</script>"; },
       "'provenance.model_id' has a control character"},
      {"a caption too long",
       [](json& r) { r["captions"][0]["text"] = std::string(kMaxCaptionBytes + 1, 'a'); },
       "caption 0: 'text' is 16385 bytes"},
      {"too many captions",
       [](json& r) {
         for (int i = 0; i < 10; ++i) r["captions"].push_back({{"text", "more"}});
       },
       "12 captions; at most 10"},
      {"a negative seed", [](json& r) { r["provenance"]["seed"] = -1; },
       "'provenance.seed' must be a whole number"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    SyncEngine engine(Seeded(6));
    const int64_t now = 1'000'000;
    REQUIRE(engine.Handle(now, AppStart{{}, true}).ok());
    OutboxRecord job = NewCaptionJob(2);
    Send get = ToResult(engine, now, job);
    json bad = ResultObject();
    c.spoil(bad);
    auto out = engine.Handle(now, Response{get.request_id, ResultBody(bad)}).value();
    CHECK(All<SaveCaptionResult>(out).empty());
    Store failed = One<Store>(out);
    CHECK(failed.job.state == JobState::kFailed);
    CHECK(failed.job.result_json.empty());
    CHECK_THAT(failed.job.last_error, Catch::Matchers::ContainsSubstring(c.says));
    Notify n = One<Notify>(out);
    CHECK(n.kind == NoticeKind::kFailed);
    CHECK_THAT(n.message, Catch::Matchers::StartsWith(
                              "The server's result for this HQ caption cannot be used: "));
    CHECK_THAT(n.message, Catch::Matchers::ContainsSubstring(c.says));
  }
}

TEST_CASE("caption-hq: saved as an asset with the result's provenance, linked to the draft") {
  testing::TempDir dir;
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  storage::DraftInput d;
  d.caption = "Pier at sunset";
  const int64_t draft = vault->CreateDraft(d).value();
  SyncEngine engine(Seeded(7));
  const int64_t now = 2'000'000;
  Apply(outbox, engine.Handle(now, AppStart{outbox.Unfinished().value(), true}));
  OutboxRecord job = RecordFromOutboxJob(
      vault->EnqueueJob("caption-hq", "preview", R"({"task":"t"})", draft).value()).value();
  Send get = ToResult(engine, now, job, &outbox);
  auto out =
      Apply(outbox, engine.Handle(now, Response{get.request_id, ResultBody(ResultObject())}));
  CHECK(One<Notify>(out).kind == NoticeKind::kDone);
  CHECK(outbox.Get(job.id).value().state == JobState::kDone);

  std::vector<storage::Asset> assets = vault->ListAssets("caption-hq", 10).value();
  REQUIRE(assets.size() == 1);
  const storage::AssetInput& a = assets[0].content;
  CHECK(a.mime == "application/json");
  CHECK(a.job_id == std::optional<int64_t>(job.id));
  CHECK(a.draft_id == std::optional<int64_t>(draft));
  CHECK(a.provenance == Provenance{"cairn-caption-starter", "1.0.0", kChecksum, "fp32",
                                   "ort-native-cpu", "cloud", "final", "cairn.prompt/1", 7});
  const json details = json::parse(a.details);
  CHECK(details["job"] == job.id);
  CHECK(details["server_job"] == kServerId);
  CHECK(details["job_preset"] == "preview");
  CHECK(details["captions"] == 2);
  // The blob is the result as the server sent it, encrypted; the hostile caption is data in it.
  const Bytes blob = vault->ReadBlob(a.blob_hash).value();
  const std::string text(blob.begin(), blob.end());
  CHECK(text == Stored(ResultObject()));
  CHECK(a.bytes == static_cast<int64_t>(text.size()));
  CHECK(ParseCaptionHqResult(text).value().captions.at(1) == kHostile);

  // Saving it again (a replayed instruction) returns the same asset and makes no other.
  SaveCaptionResult again{job.id, kServerId, Preset::kPreview, Stored(ResultObject())};
  CHECK(outbox.SaveCaptionResult(again).value() == assets[0].id);
  CHECK(vault->ListAssets("", 10).value().size() == 1);
  // The host's own check: a result that does not parse is never stored, naming the job.
  OutboxRecord other = RecordFromOutboxJob(
      vault->EnqueueJob("caption-hq", "final", R"({"task":"t"})").value()).value();
  Result<int64_t> refused = outbox.SaveCaptionResult({other.id, kServerId, Preset::kFinal,
                                                      R"({"captions":[]})"});
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.status().message(),
             Catch::Matchers::ContainsSubstring("caption-hq job " + std::to_string(other.id)));
  CHECK_FALSE(vault->FindJobAsset("caption-hq", other.id).value().has_value());
  // Nor is one for a job of another kind.
  OutboxRecord image = RecordFromOutboxJob(
      vault->EnqueueJob("image-export", "final", "{}").value()).value();
  CHECK(outbox.SaveCaptionResult({image.id, kServerId, Preset::kFinal, Stored(ResultObject())})
            .status()
            .code() == StatusCode::kInvalidArgument);
}

TEST_CASE("caption-hq: a restart at either step finishes from the vault, one asset, no request") {
  testing::TempDir dir;
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  const int64_t now = 3'000'000;
  for (bool saved_before_kill : {false, true}) {
    INFO((saved_before_kill ? "killed after the asset was saved, before 'done'"
                            : "killed after the result was recorded, before the asset"));
    auto engine = std::make_unique<SyncEngine>(Seeded(8));
    Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
    OutboxRecord job =
        outbox.Create(JobKind::kCaptionHq, Preset::kFinal, R"({"task":"t"})").value();
    Send get = ToResult(*engine, now, job, &outbox);
    auto out = engine->Handle(now, Response{get.request_id, ResultBody(ResultObject())}).value();
    // The host dies part-way: the first Store (the result, still running) is committed, the
    // asset saved or not, "done" never stored.
    REQUIRE(outbox.Apply(std::get<Store>(out[0])).ok());
    if (saved_before_kill) {
      REQUIRE(outbox.SaveCaptionResult(std::get<SaveCaptionResult>(out[1])).ok());
    }
    OutboxRecord mid = outbox.Get(job.id).value();
    CHECK(mid.state == JobState::kRunning);
    CHECK(mid.result_json == Stored(ResultObject()));
    std::vector<OutboxRecord> open = outbox.Unfinished().value();
    REQUIRE(open.size() == 1);
    CHECK(open[0].caption_saved == saved_before_kill);

    engine = std::make_unique<SyncEngine>(Seeded(9));
    out = Apply(outbox, engine->Handle(now, AppStart{open, true}));
    CHECK(All<Send>(out).empty());  // the result is in the vault: nothing is fetched again
    CHECK(All<SaveCaptionResult>(out).size() == (saved_before_kill ? 0u : 1u));
    CHECK(One<Notify>(out).kind == NoticeKind::kDone);
    OutboxRecord done = outbox.Get(job.id).value();
    CHECK(done.state == JobState::kDone);
    CHECK(done.result_json == Stored(ResultObject()));
    CHECK(outbox.Unfinished().value().empty());
    std::optional<storage::Asset> asset = vault->FindJobAsset("caption-hq", job.id).value();
    REQUIRE(asset.has_value());
    CHECK(asset->content.provenance.model_id == "cairn-caption-starter");
  }
  // One asset per job, however the restarts fell.
  CHECK(vault->ListAssets("caption-hq", 10).value().size() == 2);
}

TEST_CASE("caption-hq: jobs done before results were assets get theirs once, never again") {
  testing::TempDir dir;
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  // Two jobs done the old way (the result on the job only), one with a result this build
  // refuses, and one still queued.
  std::vector<int64_t> ids;
  for (const std::string& result : {Stored(ResultObject()), Stored(ResultObject()),
                                    std::string(R"({"captions":"not a list"})")}) {
    storage::OutboxJob j = vault->EnqueueJob("caption-hq", "preview", R"({"task":"t"})").value();
    j.state = "done";
    j.server_job_id = kServerId;
    j.result_json = result;
    REQUIRE(vault->UpdateJob(j).ok());
    ids.push_back(j.id);
  }
  REQUIRE(vault->EnqueueJob("caption-hq", "final", R"({"task":"t"})").ok());
  CHECK(outbox.SaveEarlierCaptionResults().value() == 2);
  for (int64_t id : {ids[0], ids[1]}) {
    std::optional<storage::Asset> a = vault->FindJobAsset("caption-hq", id).value();
    REQUIRE(a.has_value());
    CHECK(a->content.provenance.model_id == "cairn-caption-starter");
    CHECK(json::parse(a->content.details)["job_preset"] == "preview");
  }
  CHECK_FALSE(vault->FindJobAsset("caption-hq", ids[2]).value().has_value());
  CHECK(vault->GetJob(ids[2]).value().result_json == R"({"captions":"not a list"})");
  // Once only: an asset deleted afterwards stays deleted.
  REQUIRE(vault->DeleteAsset(vault->FindJobAsset("caption-hq", ids[0]).value()->id).ok());
  CHECK(outbox.SaveEarlierCaptionResults().value() == 0);
  CHECK(vault->ListAssets("caption-hq", 10).value().size() == 1);
}

}  // namespace
}  // namespace cairn::sync
