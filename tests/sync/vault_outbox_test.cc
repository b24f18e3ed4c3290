#include "sync/vault_outbox.h"

#include <catch_amalgamated.hpp>

#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

storage::VaultOptions FastOptions() {
  storage::VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

TEST_CASE("the engine's Store instructions land in the vault and survive reopening") {
  testing::TempDir dir;
  int64_t id = 0;
  std::string key;
  {
    auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
    VaultOutbox outbox(*vault);
    SyncEngine engine(EngineOptions{});
    REQUIRE(engine.Handle(0, AppStart{outbox.Unfinished().value(), true}).ok());
    OutboxRecord job = outbox.Create(JobKind::kCaptionHq, Preset::kFinal, R"({"task":"t"})").value();
    id = job.id;
    key = job.idempotency_key;
    CHECK(job.state == JobState::kQueued);
    auto out = engine.Handle(0, JobCreated{job}).value();
    for (const Instruction& i : out) {
      if (auto* s = std::get_if<Store>(&i)) REQUIRE(outbox.Apply(*s).ok());
    }
  }
  auto vault = storage::Vault::Open(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  std::vector<OutboxRecord> open = outbox.Unfinished().value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].id == id);
  CHECK(open[0].idempotency_key == key);
  CHECK(open[0].state == JobState::kSending);
  CHECK(open[0].attempts == 1);
  CHECK(open[0].payload_json == R"({"task":"t"})");
}

TEST_CASE("the outbox refuses a write the state machine forbids, and keeps the row") {
  testing::TempDir dir;
  auto vault = storage::Vault::Create(dir.path(), "pw", FastOptions()).value();
  VaultOutbox outbox(*vault);
  OutboxRecord job = outbox.Create(JobKind::kImageExport, Preset::kLow, "{}").value();
  OutboxRecord accepted = job;
  accepted.state = JobState::kAccepted;  // queued -> accepted: a jump through sending, allowed
  accepted.server_job_id = "abc";
  REQUIRE(outbox.Apply(Store{accepted}).ok());
  // accepted -> queued is the one way back: an image export resubmitted after blob_missing.
  OutboxRecord back = accepted;
  back.state = JobState::kQueued;
  back.resubmits = 1;
  back.server_job_id.clear();
  REQUIRE(outbox.Apply(Store{back}).ok());
  CHECK(outbox.Get(job.id).value().resubmits == 1);
  OutboxRecord done = accepted;
  done.state = JobState::kDone;
  done.result_json = "{}";
  REQUIRE(outbox.Apply(Store{done}).ok());
  REQUIRE(outbox.Apply(Store{done}).ok());  // a replay after a crash
  OutboxRecord late = done;
  late.state = JobState::kCancelled;
  Status s = outbox.Apply(Store{late});
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message().find("cannot go from done to cancelled") != std::string::npos);
  CHECK(outbox.Get(job.id).value().state == JobState::kDone);
  OutboxRecord other = done;
  other.idempotency_key = "someone-elses-key";
  CHECK(outbox.Apply(Store{other}).code() == StatusCode::kFailedPrecondition);
  CHECK(outbox.Unfinished().value().empty());
}

}  // namespace
}  // namespace cairn::sync
