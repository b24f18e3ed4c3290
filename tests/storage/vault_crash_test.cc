// The vault under faults: for a workload of many transactions, fail the I/O at every write,
// sync and truncate in turn (the crash matrix), with and without power loss, and check that
// everything acknowledged before the failure is there afterwards and the database is intact.
#include <catch_amalgamated.hpp>

#include <cstdio>
#include <iterator>
#include <map>
#include <set>

#include "core/crypto/random.h"
#include "storage/fault_vfs.h"
#include "storage/vault.h"

namespace cairn::storage {
namespace {

constexpr char kDir[] = "/vault";

struct State {
  std::set<std::string> captions;
  std::string counter;
  friend bool operator==(const State&, const State&) = default;
};

VaultOptions OptionsFor(FaultVfs& disk) {
  VaultOptions o;
  o.host_vfs = disk.vfs();
  o.exclusive = true;
  return o;
}

// The workload: creates, updates, deletes and a setting, one transaction each. `drafts` maps
// each live draft's id to its caption: the model of what a reader must see once acknowledged.
struct Workload {
  std::map<int64_t, std::string> drafts;
  State model;

  static constexpr int kSteps = 24;

  static State ToState(const std::map<int64_t, std::string>& drafts, std::string counter) {
    State s;
    for (const auto& [id, caption] : drafts) s.captions.insert(caption);
    s.counter = std::move(counter);
    return s;
  }

  // Runs step i. On success the model moves on; either way *pending is the state the step
  // would produce, which a crash may or may not have made durable.
  Status Step(Vault& v, int i, State* pending) {
    std::map<int64_t, std::string> next = drafts;
    std::string counter = model.counter;
    Status s;
    if (i % 4 == 3 && !drafts.empty()) {
      auto newest = std::prev(next.end());
      newest->second += " (edited at " + std::to_string(i) + ")";
      DraftInput d;
      d.caption = newest->second;
      s = v.UpdateDraft(newest->first, d);
    } else if (i % 7 == 6 && !drafts.empty()) {
      const int64_t oldest = next.begin()->first;
      next.erase(next.begin());
      s = v.DeleteDraft(oldest);
    } else if (i % 5 == 4) {
      counter = std::to_string(i);
      s = v.SetSetting("counter", counter);
    } else {
      DraftInput d;
      d.caption = "draft " + std::to_string(i);
      Result<int64_t> id = v.CreateDraft(d);
      s = id.status();
      // An unacknowledged insert's id is unknown; a recovered one is matched by caption.
      next[id.ok() ? *id : INT64_MAX] = d.caption;
    }
    *pending = ToState(next, counter);
    if (s.ok()) {
      drafts = std::move(next);
      model = *pending;
    }
    return s;
  }
};

State Observe(Vault& v) {
  State s;
  for (const Draft& d : v.ListDrafts(1000).value()) s.captions.insert(d.content.caption);
  auto c = v.GetSetting("counter").value();
  s.counter = c.value_or("");
  return s;
}

std::string Describe(const State& s) {
  std::string out = "counter=" + s.counter + " drafts:";
  for (const auto& c : s.captions) out += " [" + c + "]";
  return out;
}

struct Disk {
  std::unique_ptr<FaultVfs> vfs = FaultVfs::Register().value();
  SecretBytes device_key = crypto::RandomSecret(32);
  int64_t setup_ops = 0;

  std::unique_ptr<Vault> Create() {
    auto v = Vault::CreateWithDeviceKey(kDir, device_key.view(), OptionsFor(*vfs)).value();
    setup_ops = vfs->operations();
    return v;
  }
  Result<std::unique_ptr<Vault>> Reopen() {
    return Vault::OpenWithDeviceKey(kDir, device_key.view(), OptionsFor(*vfs));
  }
};

// Runs the workload (and closes the vault, which checkpoints) with operation `fail_at` failing
// (and, if `crash`, every later one, then power loss). Checks the reopened vault.
void RunOnce(int64_t fail_at, bool crash, int rc, int* acknowledged_out) {
  Disk disk;
  auto v = disk.Create();
  disk.vfs->FailAt(disk.setup_ops + fail_at, rc, crash);
  Workload w;
  State acked = w.model, maybe = w.model;
  int acknowledged = 0;
  for (int i = 0; i < Workload::kSteps; ++i) {
    State pending;
    Status s = w.Step(*v, i, &pending);
    if (s.ok()) {
      acked = pending;
      maybe = pending;
      ++acknowledged;
    } else {
      // The failed step may or may not have taken effect; it must be all or nothing.
      maybe = pending;
      CHECK((s.code() == StatusCode::kIoError || s.code() == StatusCode::kResourceExhausted ||
             s.code() == StatusCode::kCorruption));
      if (crash) break;  // the process is dead
    }
  }
  v.reset();  // closing may also fail: it checkpoints the WAL
  if (crash) disk.vfs->Crash();
  disk.vfs->ClearFaults();

  auto reopened = disk.Reopen();
  INFO("fail at op " << fail_at << (crash ? " with power loss" : " (transient)"));
  REQUIRE(reopened.ok());
  State seen = Observe(**reopened);
  INFO("acknowledged: " << Describe(acked));
  INFO("seen:         " << Describe(seen));
  if (crash) {
    CHECK((seen == acked || seen == maybe));
  } else {
    // A transient failure fails one step, which changes nothing; every later step went on.
    CHECK(seen == w.model);
  }
  CHECK((*reopened)->IntegrityCheck().value() == "ok");
  *acknowledged_out = acknowledged;
}

int64_t CountOperations() {
  Disk disk;
  auto v = disk.Create();
  Workload w;
  for (int i = 0; i < Workload::kSteps; ++i) {
    State pending;
    REQUIRE(w.Step(*v, i, &pending).ok());
  }
  v.reset();
  auto reopened = disk.Reopen().value();
  CHECK(Observe(*reopened) == w.model);
  return disk.vfs->operations() - disk.setup_ops;
}

TEST_CASE("crash matrix: power loss at every write, sync and truncate loses nothing acknowledged") {
  const int64_t points = CountOperations();
  REQUIRE(points > Workload::kSteps);  // at least a write and a sync per transaction
  int64_t tried = 0, total_acknowledged = 0;
  for (int64_t p = 1; p <= points; ++p) {
    int acked = 0;
    RunOnce(p, /*crash=*/true, SQLITE_IOERR_WRITE, &acked);
    ++tried;
    total_acknowledged += acked;
  }
  std::printf("crash matrix: %lld crash points tried (power loss after each), %lld acknowledged "
              "transactions checked after recovery\n",
              static_cast<long long>(tried), static_cast<long long>(total_acknowledged));
  CHECK(tried == points);
}

TEST_CASE("a failed write or sync (no crash) leaves the vault usable with nothing lost") {
  const int64_t points = CountOperations();
  for (int64_t p = 1; p <= points; ++p) {
    int acked = 0;
    RunOnce(p, /*crash=*/false, SQLITE_IOERR_FSYNC, &acked);
  }
}

TEST_CASE("disk full mid-transaction: a clear error, nothing committed lost, usable after") {
  Disk disk;
  auto v = disk.Create();
  DraftInput d;
  d.caption = "committed before the disk filled";
  REQUIRE(v->CreateDraft(d).ok());
  disk.vfs->SetCapacity(0);  // no room to grow any file
  d.caption = std::string(20000, 'x');
  Status full = v->CreateDraft(d).status();
  CHECK(full.code() == StatusCode::kResourceExhausted);
  CHECK_THAT(full.message(), Catch::Matchers::ContainsSubstring("disk is full"));
  disk.vfs->ClearFaults();
  d.caption = "after space was freed";
  REQUIRE(v->CreateDraft(d).ok());
  v.reset();
  auto again = disk.Reopen().value();
  State s = Observe(*again);
  CHECK(s.captions == std::set<std::string>{"committed before the disk filled",
                                            "after space was freed"});
  CHECK(again->IntegrityCheck().value() == "ok");
}

}  // namespace
}  // namespace cairn::storage
