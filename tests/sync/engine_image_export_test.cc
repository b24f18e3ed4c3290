// The sync engine's image exports: the source uploaded before the submission, resubmission after
// blob_missing (at most kMaxResubmits, each under the next key), renditions fetched, checked
// against their BLAKE2b-256 and handed to the host to save, and a restart in the middle (a real
// encrypted vault as the outbox).
#include <catch_amalgamated.hpp>

#include "sync/blob_store.h"
#include "sync/engine.h"
#include "sync/vault_outbox.h"
#include "tests/sync/instructions.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

const std::string kServerId = "0123456789abcdef0123456789abcdef";
const std::string kServerId2 = "fedcba9876543210fedcba9876543210";
const std::string kPhoto = "\x89PNG\r\n\x1a\n a photo";

std::string Source() { return BlobHashOf(kPhoto); }

std::string Payload() {
  return R"({"source":")" + Source() + R"(","sizes":["1080x1080","1080x1350"]})";
}

OutboxRecord NewExport(int64_t id) {
  OutboxRecord r;
  r.id = id;
  r.idempotency_key = "export-" + std::to_string(id) + "-0123456789abcdef";
  r.kind = JobKind::kImageExport;
  r.preset = Preset::kFinal;
  r.payload_json = Payload();
  return r;
}

JobView View(const std::string& key, JobState state, const std::string& id = kServerId,
             int64_t seq = 1) {
  JobView v;
  v.id = id;
  v.idempotency_key = key;
  v.kind = JobKind::kImageExport;
  v.preset = Preset::kFinal;
  v.state = state;
  v.seq = seq;
  return v;
}

JobView Failed(const std::string& key, const std::string& id, const std::string& code,
               int64_t seq) {
  JobView v = View(key, JobState::kFailed, id, seq);
  v.error_code = code;
  v.error_message = "this device has no blob " + Source();
  return v;
}

HttpResponse Ok(std::string body, int status = 200) { return {status, {}, std::move(body)}; }

HttpResponse Feed(std::vector<JobView> jobs, int64_t next) {
  return Ok(SerializeChanges(ChangesPage{std::move(jobs), next, false, {}}));
}

const std::string kSquare = std::string("\xff\xd8\xff square rendition ") + std::string(300, 's');
const std::string kPortrait = std::string("\xff\xd8\xff portrait rendition ") + std::string(500, 'p');

std::string ResultJson() {
  return R"({"renditions":[{"name":"1080x1080","width":1080,"height":1080,"format":"jpeg",)"
         R"("content_type":"image/jpeg","bytes":)" + std::to_string(kSquare.size()) +
         R"(,"blake2b":")" + BlobHashOf(kSquare) + R"(","upscaled":false},)"
         R"({"name":"1080x1350","width":1080,"height":1350,"format":"jpeg",)"
         R"("content_type":"image/jpeg","bytes":)" + std::to_string(kPortrait.size()) +
         R"(,"blake2b":")" + BlobHashOf(kPortrait) + R"(","upscaled":true}],)"
         R"("source":{"blake2b":")" + Source() + R"(","width":4000,"height":3000},)"
         R"("provenance":{"renderer":"cairn-server image-export/1","libvips":"8.16.1",)"
         R"("tier":"cloud","preset":"final","rendered_at":1700000004211},"stats":{"render_ms":9}})";
}

// The result as the outbox keeps it (parsed and written again by the protocol layer).
std::string StoredResult() {
  return ParseResult(SerializeResult(JobResult{kServerId, ResultJson()}).value()).value().result_json;
}

HttpResponse ResultBody(const std::string& id = kServerId) {
  return Ok(SerializeResult(JobResult{id, ResultJson()}).value());
}

EngineOptions Seeded(uint64_t seed) {
  EngineOptions o;
  o.seed = seed;
  return o;
}

struct Harness {
  SyncEngine engine{Seeded(11)};
  int64_t now = 1'000'000;
  std::vector<Instruction> Do(const Event& e) { return engine.Handle(now, e).value(); }
  // Advances the clock to the engine's next wake-up and ticks.
  std::vector<Instruction> Wake(const std::vector<Instruction>& out) {
    now = std::max(now, One<WakeAt>(out).at_ms);
    return Do(Tick{});
  }
};

// Takes a job from created to the point where the server has accepted it under `key`.
Send UploadThenSubmit(Harness& h, std::vector<Instruction> out, const std::string& key) {
  UploadBlob up = One<UploadBlob>(out);  // nothing is sent before it
  CHECK(All<Send>(out).empty());
  CHECK(up.hash == Source());
  out = h.Do(Response{up.request_id, Ok(R"({"v":1,"blob":{"hash":")" + Source() + R"("}})", 201)});
  REQUIRE(out.size() >= 3);
  Store uploaded = std::get<Store>(out[0]);
  CHECK(uploaded.job.source_uploaded);
  CHECK(uploaded.job.state == JobState::kQueued);
  Store sending = std::get<Store>(out[1]);
  CHECK(sending.job.state == JobState::kSending);
  Send post = std::get<Send>(out[2]);
  CHECK(post.request.method == "POST");
  CHECK(post.request.target == "/v1/jobs");
  CHECK(post.request.body.find("\"idempotency_key\":\"" + key + "\"") != std::string::npos);
  return post;
}

TEST_CASE("image export: the source is uploaded before the job is submitted") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  auto out = h.Do(JobCreated{job});
  UploadBlob up = std::get<UploadBlob>(out[0]);
  CHECK(up.job_id == 1);
  CHECK(All<Store>(out).empty());  // nothing to record yet: an upload is idempotent
  CHECK(h.engine.counters().uploads == 1);

  // A 503 leaves the job queued with no submission; the upload is tried again later.
  out = h.Do(Response{up.request_id, Ok(R"({"error":{"code":"unavailable","message":"busy"}})", 503)});
  CHECK(All<Send>(out).empty());
  CHECK(All<UploadBlob>(out).empty());
  CHECK(h.engine.Find(1)->state == JobState::kQueued);
  CHECK_FALSE(h.engine.Find(1)->source_uploaded);
  out = h.Wake(out);
  Send post = UploadThenSubmit(h, out, job.idempotency_key);
  CHECK(h.engine.counters().uploads == 2);

  // Accepted: the source is never uploaded again for this submission.
  out = h.Do(Response{post.request_id, Ok(SerializeJob(View(job.idempotency_key, JobState::kAccepted)), 201)});
  CHECK(All<UploadBlob>(out).empty());
  CHECK(One<Store>(out).job.source_uploaded);
}

TEST_CASE("image export: a source the server refuses (400 bad_image) fails the job with its message") {
  Harness h;
  h.Do(AppStart{{}, true});
  auto out = h.Do(JobCreated{NewExport(1)});
  UploadBlob up = One<UploadBlob>(out);
  out = h.Do(Response{up.request_id,
                      Ok(R"({"error":{"code":"bad_image","message":"the blob is not a JPEG, PNG, WebP or TIFF file"}})", 400)});
  CHECK(All<Send>(out).empty());
  CHECK(One<Store>(out).job.state == JobState::kFailed);
  CHECK(One<Store>(out).job.last_error.rfind("bad_image: ", 0) == 0);
  CHECK(One<Notify>(out).message ==
        "The server refused the photo for this HQ export: the blob is not a JPEG, PNG, WebP or TIFF file");
}

TEST_CASE("image export: a source the host cannot read fails the job, naming why") {
  Harness h;
  h.Do(AppStart{{}, true});
  auto out = h.Do(JobCreated{NewExport(1)});
  UploadBlob up = One<UploadBlob>(out);
  out = h.Do(BlobUnreadable{up.request_id, "no blob " + up.hash.substr(0, 8)});
  CHECK(One<Store>(out).job.state == JobState::kFailed);
  CHECK_THAT(One<Notify>(out).message, Catch::Matchers::ContainsSubstring("no longer readable"));
  CHECK(h.engine.Find(1) == nullptr);
}

TEST_CASE("image export: blob_missing re-uploads and resubmits as -r1, -r2, then fails clearly") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  const std::string& key = job.idempotency_key;
  Send post = UploadThenSubmit(h, h.Do(JobCreated{job}), key);
  auto out = h.Do(Response{post.request_id, Ok(SerializeJob(View(key, JobState::kAccepted)), 201)});
  Send feed = One<Send>(out);

  // The render worker found no source: the job comes back to the queue, under the next key.
  out = h.Do(Response{feed.request_id, Feed({Failed(key, kServerId, "blob_missing", 2)}, 2)});
  Store back = All<Store>(out).at(0);
  CHECK(back.job.state == JobState::kQueued);
  CHECK(back.job.resubmits == 1);
  CHECK_FALSE(back.job.source_uploaded);
  CHECK(back.job.server_job_id.empty());
  CHECK(All<Notify>(out).empty());  // not failed: the creator sees it waiting, not an error
  post = UploadThenSubmit(h, out, key + "-r1");

  // A late copy of the first job's failure changes nothing now (another key).
  out = h.Do(Response{post.request_id, Ok(SerializeJob(View(key + "-r1", JobState::kAccepted, kServerId2, 3)), 201)});
  feed = One<Send>(h.Wake(out));  // the feed's next poll
  out = h.Do(Response{feed.request_id, Feed({Failed(key, kServerId, "blob_missing", 2),
                                             View(key + "-r1", JobState::kRunning, kServerId2, 4)}, 4)});
  CHECK(h.engine.Find(1)->state == JobState::kRunning);
  CHECK(h.engine.Find(1)->resubmits == 1);

  // Lost again: the second and last resubmission.
  out = h.Wake(out);
  feed = One<Send>(out);
  out = h.Do(Response{feed.request_id, Feed({Failed(key + "-r1", kServerId2, "blob_missing", 5)}, 5)});
  CHECK(All<Store>(out).at(0).job.resubmits == 2);
  post = UploadThenSubmit(h, out, key + "-r2");
  // This time the submission's own reply says failed (a retry of a job already failed).
  out = h.Do(Response{post.request_id, Ok(SerializeJob(Failed(key + "-r2", kServerId, "blob_missing", 6)), 200)});
  Store end = All<Store>(out).back();
  CHECK(end.job.state == JobState::kFailed);
  CHECK(end.job.resubmits == 2);
  CHECK(end.job.last_error.rfind("blob_missing: ", 0) == 0);
  CHECK_THAT(One<Notify>(out).message, Catch::Matchers::ContainsSubstring("lost the photo each time"));
  CHECK_THAT(One<Notify>(out).message, Catch::Matchers::ContainsSubstring("3 uploads"));
  CHECK(All<UploadBlob>(out).empty());
  CHECK(h.engine.counters().resubmits == 2);
  CHECK(h.engine.counters().uploads == 3);
  CHECK(h.engine.Find(1) == nullptr);
}

TEST_CASE("image export: another failure code or a cancelled job is not resubmitted") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  Send post = UploadThenSubmit(h, h.Do(JobCreated{job}), job.idempotency_key);
  auto out = h.Do(Response{post.request_id, Ok(SerializeJob(Failed(job.idempotency_key, kServerId, "bad_image", 2)), 201)});
  CHECK(All<Store>(out).back().job.state == JobState::kFailed);
  CHECK(h.engine.counters().resubmits == 0);
}

// Takes an export to done on the server, returns the result request.
Send ToResult(Harness& h, const OutboxRecord& job) {
  Send post = UploadThenSubmit(h, h.Do(JobCreated{job}), job.idempotency_key);
  auto out = h.Do(Response{post.request_id, Ok(SerializeJob(View(job.idempotency_key, JobState::kDone)), 201)});
  Send get = One<Send>(out);
  CHECK(get.request.target == "/v1/jobs/" + kServerId + "/result");
  return get;
}

TEST_CASE("image export: renditions are checked against their BLAKE2b; a mismatch is never saved") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  Send get = ToResult(h, job);
  auto out = h.Do(Response{get.request_id, ResultBody()});
  // The result is recorded (still running) before the first rendition is fetched.
  Store kept = std::get<Store>(out.at(0));
  CHECK(kept.job.state == JobState::kRunning);
  CHECK(kept.job.result_json == StoredResult());
  Send first = std::get<Send>(out.at(1));
  CHECK(first.request.target == "/v1/jobs/" + kServerId + "/result/1080x1080");

  // Damaged bytes: refused, nothing saved, fetched again after a backoff.
  std::string damaged = kSquare;
  damaged[10] ^= 1;
  out = h.Do(Response{first.request_id, Ok(damaged)});
  CHECK(All<SaveRendition>(out).empty());
  CHECK(All<Send>(out).empty());
  CHECK(h.engine.counters().checksum_mismatches == 1);
  CHECK(h.engine.Find(1)->state == JobState::kRunning);
  out = h.Wake(out);
  first = One<Send>(out);
  CHECK(first.request.target == "/v1/jobs/" + kServerId + "/result/1080x1080");

  out = h.Do(Response{first.request_id, Ok(kSquare)});
  SaveRendition square = One<SaveRendition>(out);
  CHECK(square.job_id == 1);
  CHECK(square.bytes == kSquare);
  CHECK(square.rendition.name == "1080x1080");
  CHECK(square.rendition.blake2b == BlobHashOf(kSquare));
  CHECK(square.server_job_id == kServerId);
  CHECK(square.result.renderer == "cairn-server image-export/1");
  CHECK(square.result.libvips == "8.16.1");
  CHECK(square.result.tier == "cloud");
  CHECK(square.result.source == Source());
  CHECK(All<Store>(out).empty());  // not done until every rendition is saved
  Send second = One<Send>(out);
  CHECK(second.request.target == "/v1/jobs/" + kServerId + "/result/1080x1350");

  out = h.Do(Response{second.request_id, Ok(kPortrait)});
  CHECK(One<SaveRendition>(out).rendition.name == "1080x1350");
  // Saved first, then the job is done.
  size_t save_at = 0, done_at = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::holds_alternative<SaveRendition>(out[i])) save_at = i;
    if (auto* s = std::get_if<Store>(&out[i]); s && s->job.state == JobState::kDone) done_at = i;
  }
  CHECK(save_at < done_at);
  CHECK(One<Notify>(out).kind == NoticeKind::kDone);
  CHECK(h.engine.counters().renditions_saved == 2);
}

TEST_CASE("image export: a rendition damaged every time fails the job, nothing kept") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  auto out = h.Do(Response{ToResult(h, job).request_id, ResultBody()});
  Send get = std::get<Send>(out.at(1));
  for (int i = 1; i <= kMaxRenditionMismatches; ++i) {
    out = h.Do(Response{get.request_id, Ok("not the rendition")});
    CHECK(All<SaveRendition>(out).empty());
    if (i < kMaxRenditionMismatches) get = One<Send>(h.Wake(out));
  }
  Store end = All<Store>(out).back();
  CHECK(end.job.state == JobState::kFailed);
  CHECK(end.job.last_error.rfind("checksum_mismatch: rendition 1080x1080", 0) == 0);
  CHECK_THAT(One<Notify>(out).message, Catch::Matchers::ContainsSubstring("arrived damaged 3 times"));
}

TEST_CASE("image export: a result naming a rendition unsafely (a path) fails, never requested") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewExport(1);
  Send get = ToResult(h, job);
  std::string bad = ResultJson();
  bad.replace(bad.find("\"1080x1080\""), 11, "\"../../etc\"");
  auto out = h.Do(Response{get.request_id, Ok(SerializeResult(JobResult{kServerId, bad}).value())});
  CHECK(All<Send>(out).empty());
  CHECK(All<Store>(out).back().job.state == JobState::kFailed);
  CHECK_THAT(One<Notify>(out).message, Catch::Matchers::ContainsSubstring("'name' must be"));
}

storage::VaultOptions FastOptions() {
  storage::VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

// The host part the tests need: Stores and SaveRenditions carried out on the real vault, the
// rest returned.
std::vector<Instruction> Apply(VaultOutbox& outbox, Result<std::vector<Instruction>> out) {
  REQUIRE(out.ok());
  for (const Instruction& i : *out) {
    if (auto* s = std::get_if<Store>(&i)) REQUIRE(outbox.Apply(*s).ok());
    if (auto* r = std::get_if<SaveRendition>(&i)) REQUIRE(outbox.SaveRendition(*r).ok());
  }
  return *out;
}

TEST_CASE("image export: a rendition answered 410 job_expired fails the job, nothing kept") {
  // Back after a month with the result recorded but no rendition saved: the server removed the
  // job (retention) meanwhile.
  Harness h;
  OutboxRecord job = NewExport(1);
  job.state = JobState::kRunning;
  job.attempts = 1;
  job.source_uploaded = true;
  job.server_job_id = kServerId;
  job.result_json = StoredResult();
  Send first = One<Send>(h.Do(AppStart{{job}, true}));
  REQUIRE(first.request.target == "/v1/jobs/" + kServerId + "/result/1080x1080");
  auto out = h.Do(Response{
      first.request_id,
      Ok(SerializeError({410, "job_expired", "job " + kServerId + " was removed"}), 410)});
  CHECK(All<SaveRendition>(out).empty());
  CHECK(All<Send>(out).empty());
  Store st = One<Store>(out);
  CHECK(st.job.state == JobState::kFailed);
  CHECK(st.job.last_error ==
        "job_expired: expired on the server before this device fetched its result");
  CHECK(One<Notify>(out).kind == NoticeKind::kFailed);
  CHECK(h.engine.Find(1) == nullptr);
}

TEST_CASE("image export: restarts in the middle resume from the vault's outbox") {
  testing::TempDir dir;
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  int64_t now = 5'000'000;
  auto engine = std::make_unique<SyncEngine>(Seeded(3));
  Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
  OutboxRecord job = outbox.Create(JobKind::kImageExport, Preset::kFinal, Payload()).value();
  auto out = Apply(outbox, engine->Handle(now, JobCreated{job}));
  UploadBlob up = One<UploadBlob>(out);

  // Killed during the upload: the new engine uploads again (nothing says it arrived).
  engine = std::make_unique<SyncEngine>(Seeded(4));
  out = Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
  up = One<UploadBlob>(out);
  out = Apply(outbox, engine->Handle(now, Response{up.request_id, Ok("{}", 200)}));
  Send post = One<Send>(out);
  CHECK(outbox.Get(job.id).value().source_uploaded);

  // Killed after the submission was sent: the source is on the server (recorded), so the new
  // engine resubmits the same key at once without uploading.
  engine = std::make_unique<SyncEngine>(Seeded(5));
  out = Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
  CHECK(All<UploadBlob>(out).empty());
  post = One<Send>(out);
  CHECK(post.request.body.find(job.idempotency_key) != std::string::npos);
  out = Apply(outbox, engine->Handle(now, Response{post.request_id,
                                                   Ok(SerializeJob(View(job.idempotency_key, JobState::kDone)))}));
  Send get = One<Send>(out);
  out = Apply(outbox, engine->Handle(now, Response{get.request_id, ResultBody()}));
  Send first = One<Send>(out);
  out = Apply(outbox, engine->Handle(now, Response{first.request_id, Ok(kSquare)}));
  CHECK(One<SaveRendition>(out).rendition.name == "1080x1080");

  // Killed between the two renditions: the result is in the vault and so is the first
  // rendition, so the new engine fetches only the second, straight away, and finishes.
  OutboxRecord mid = outbox.Get(job.id).value();
  CHECK(mid.state == JobState::kRunning);
  CHECK(mid.result_json == StoredResult());
  std::vector<OutboxRecord> open = outbox.Unfinished().value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].renditions_saved == std::vector<std::string>{BlobHashOf(kSquare)});
  engine = std::make_unique<SyncEngine>(Seeded(6));
  out = Apply(outbox, engine->Handle(now, AppStart{open, true}));
  Send second = One<Send>(out);
  CHECK(second.request.target == "/v1/jobs/" + kServerId + "/result/1080x1350");
  out = engine->Handle(now, Response{second.request_id, Ok(kPortrait)}).value();
  CHECK(One<SaveRendition>(out).bytes == kPortrait);

  // Killed after the last rendition was saved but before "done" was stored: the new engine
  // finds every rendition in the vault and finishes without a request.
  REQUIRE(outbox.SaveRendition(One<SaveRendition>(out)).ok());
  CHECK(outbox.Get(job.id).value().state == JobState::kRunning);
  engine = std::make_unique<SyncEngine>(Seeded(7));
  out = Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
  CHECK(All<Send>(out).empty());
  CHECK(One<Notify>(out).kind == NoticeKind::kDone);
  OutboxRecord done = outbox.Get(job.id).value();
  CHECK(done.state == JobState::kDone);
  CHECK(done.result_json == StoredResult());
  CHECK(outbox.Unfinished().value().empty());
  std::vector<storage::Asset> renders = vault->ListAssets("render", 10).value();
  REQUIRE(renders.size() == 2);
  const storage::Asset& portrait = renders[0];
  CHECK(portrait.content.blob_hash == BlobHashOf(kPortrait));
  CHECK(portrait.content.mime == "image/jpeg");
  CHECK(portrait.content.height == 1350);
  CHECK(portrait.content.provenance.model_id == "cairn-server image-export/1");
  CHECK(portrait.content.provenance.model_version == "8.16.1");
  CHECK(portrait.content.provenance.model_checksum == BlobHashOf(kPortrait));
  CHECK(portrait.content.provenance.backend == "libvips");
  CHECK(portrait.content.provenance.tier == "cloud");
  CHECK(portrait.content.provenance.preset == "final");
  CHECK_THAT(portrait.content.details, Catch::Matchers::ContainsSubstring(R"("rendition":"1080x1350")"));
  Bytes back = vault->ReadBlob(portrait.content.blob_hash).value();
  CHECK(std::string(back.begin(), back.end()) == kPortrait);
  // The host's last check: bytes that are not the rendition's are never stored.
  SaveRendition forged{job.id, kServerId, Preset::kFinal, {"1080x1920", "image/jpeg", BlobHashOf(kSquare), 1080, 1920, 3}, {}, "forged"};
  CHECK(outbox.SaveRendition(forged).status().code() == StatusCode::kCorruption);
  CHECK(vault->ListAssets("render", 10).value().size() == 2);

  // A resubmission survives a restart too: its count (and so its key) is in the vault.
  OutboxRecord again = outbox.Create(JobKind::kImageExport, Preset::kFinal, Payload()).value();
  out = Apply(outbox, engine->Handle(now, JobCreated{again}));
  out = Apply(outbox, engine->Handle(now, Response{One<UploadBlob>(out).request_id, Ok("{}", 201)}));
  post = One<Send>(out);
  out = Apply(outbox, engine->Handle(now, Response{post.request_id,
      Ok(SerializeJob(Failed(again.idempotency_key, kServerId2, "blob_missing", 9)), 201)}));
  CHECK(outbox.Get(again.id).value().resubmits == 1);
  engine = std::make_unique<SyncEngine>(Seeded(7));
  out = Apply(outbox, engine->Handle(now, AppStart{outbox.Unfinished().value(), true}));
  up = One<UploadBlob>(out);
  out = Apply(outbox, engine->Handle(now, Response{up.request_id, Ok("{}", 200)}));
  CHECK(One<Send>(out).request.body.find(again.idempotency_key + "-r1") != std::string::npos);
}

}  // namespace
}  // namespace cairn::sync
