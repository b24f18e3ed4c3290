#include "sync/engine.h"

#include <algorithm>

#include "sync/blob_store.h"
#include "sync/caption_hq_result.h"
#include <limits>
#include <utility>

namespace cairn::sync {
namespace {

const char* What(JobKind kind) {
  return kind == JobKind::kCaptionHq ? "HQ caption" : "HQ export";
}

bool Is2xx(const HttpResponse* r) { return r != nullptr && r->status >= 200 && r->status < 300; }

// The server removed the job (its retention rule) before this device was done with it.
bool IsJobExpired(const HttpResponse* r) {
  return r != nullptr && r->status == 410 && ParseError(*r).code == wire::kJobExpired;
}

std::string Describe(const HttpResponse* r, const std::string& error) {
  if (r == nullptr) return "network: " + error;
  ApiError e = ParseError(*r);
  return "HTTP " + std::to_string(r->status) + " " + e.code + ": " + e.message;
}

}  // namespace

bool IsRetryable(const HttpResponse* r) {
  if (r == nullptr) return true;  // no response at all
  // 401 is about the device (its registration, clock or a duplicated request), never the job:
  // the host re-registers or corrects its clock (RequestSigner::LearnServerTime) meanwhile.
  return r->status >= 500 || r->status == 408 || r->status == 429 || r->status == 401 ||
         r->status < 100;
}

// Collects the instructions of one Handle() call.
class SyncEngine::Out {
 public:
  std::vector<Instruction> list;
  void Store(const OutboxRecord& rec) { list.push_back(sync::Store{rec}); }
  void Notify(int64_t id, NoticeKind kind, std::string message) {
    list.push_back(sync::Notify{id, kind, std::move(message)});
  }
};

SyncEngine::SyncEngine(EngineOptions options) : options_(options), rng_(options.seed) {}

const OutboxRecord* SyncEngine::Find(int64_t job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second.rec;
}

Result<std::vector<Instruction>> SyncEngine::Handle(int64_t now, const Event& event) {
  Out out;
  if (const auto* start = std::get_if<AppStart>(&event)) {
    // A (re)start: everything in memory is forgotten; requests of an earlier life are unknown.
    jobs_.clear();
    pending_.clear();
    feed_in_flight_ = 0;
    feed_since_ = 0;
    feed_next_at_ = 0;
    feed_failures_ = 0;
    for (const OutboxRecord& rec : start->jobs) {
      if (IsTerminal(rec.state)) continue;
      JobEntry entry{rec, std::nullopt, 0, 0, std::nullopt, 0, 0};
      if (rec.kind == JobKind::kImageExport && !rec.result_json.empty()) {
        // Killed while fetching the renditions: fetch those not saved yet.
        Result<ImageExportResult> r = ParseImageExportResult(rec.result_json);
        if (r.ok()) {
          std::erase_if(r->renditions, [&](const RenditionInfo& x) {
            return std::find(rec.renditions_saved.begin(), rec.renditions_saved.end(),
                             x.blake2b) != rec.renditions_saved.end();
          });
          entry.image = std::move(*r);
        } else {
          entry.rec.result_json.clear();  // fetch the result again
        }
      }
      const bool all_saved = entry.image && entry.image->renditions.empty();
      jobs_[rec.id] = std::move(entry);
      if (all_saved) Finish(jobs_[rec.id], JobState::kDone, out, "Your HQ export is ready");
      if (rec.kind == JobKind::kCaptionHq && !rec.result_json.empty()) {
        // Killed between recording the result and "done": no request, the result is here.
        if (rec.caption_saved) {
          Finish(jobs_[rec.id], JobState::kDone, out, "Your HQ caption is ready");
        } else {
          TakeCaptionResult(jobs_[rec.id], rec.result_json, out);
        }
      }
    }
    online_ = start->online;
    started_ = true;
  } else if (!started_) {
    return FailedPrecondition("the sync engine needs AppStart before any other event");
  } else if (std::holds_alternative<Online>(event)) {
    online_ = true;
    // Coming back online is the moment to try: waiting out a long backoff would waste it.
    for (auto& [id, job] : jobs_) job.rec.next_attempt_at_ms = std::min(job.rec.next_attempt_at_ms, now);
    feed_next_at_ = std::min(feed_next_at_, now);
  } else if (std::holds_alternative<Offline>(event)) {
    online_ = false;
  } else if (std::holds_alternative<Tick>(event)) {
    std::vector<uint64_t> expired;
    for (const auto& [rid, p] : pending_) {
      if (p.deadline_ms <= now) expired.push_back(rid);
    }
    for (uint64_t rid : expired) {
      ++counters_.timeouts;
      OnReply(now, rid, nullptr, "no answer within " +
                                      std::to_string(options_.request_timeout_ms / 1000) + " s",
              out);
    }
  } else if (const auto* r = std::get_if<Response>(&event)) {
    OnReply(now, r->request_id, &r->response, "", out);
  } else if (const auto* e = std::get_if<NetworkError>(&event)) {
    OnReply(now, e->request_id, nullptr, e->reason, out);
  } else if (const auto* b = std::get_if<BlobUnreadable>(&event)) {
    auto p = pending_.find(b->request_id);
    if (p == pending_.end() || p->second.op != Op::kUpload) {
      ++counters_.ignored_replies;
    } else {
      const int64_t job_id = p->second.job_id;
      pending_.erase(p);
      auto it = jobs_.find(job_id);
      if (it != jobs_.end() && it->second.in_flight == b->request_id) {
        it->second.in_flight = 0;
        it->second.rec.last_error = "source unreadable: " + b->reason;
        Finish(it->second, JobState::kFailed, out,
               "This HQ export cannot be sent: its photo is no longer readable on this device (" +
                   b->reason + "). Pick the photo again and export it again.");
      } else {
        ++counters_.ignored_replies;
      }
    }
  } else if (const auto* c = std::get_if<JobCreated>(&event)) {
    if (jobs_.count(c->job.id) != 0) {
      return AlreadyExists("job " + std::to_string(c->job.id) + " is already in the sync engine");
    }
    if (c->job.state != JobState::kQueued || c->job.attempts != 0) {
      return InvalidArgument("job " + std::to_string(c->job.id) +
                             ": a new job must be queued and never sent");
    }
    jobs_[c->job.id] = JobEntry{c->job, std::nullopt, 0, 0, std::nullopt, 0, 0};
  } else if (const auto* c = std::get_if<CancelRequested>(&event)) {
    // A job the engine does not track is finished (or unknown): nothing to cancel.
    if (auto it = jobs_.find(c->job_id); it != jobs_.end()) Cancel(it->second, out);
  }
  Pump(now, out);
  return std::move(out.list);
}

void SyncEngine::Cancel(JobEntry& job, Out& out) {
  if (job.rec.state == JobState::kQueued && job.rec.attempts == 0) {
    // Never sent: the server cannot have it.
    Finish(job, JobState::kCancelled, out, std::string(What(job.rec.kind)) + " cancelled");
    return;
  }
  if (job.rec.cancel_requested) return;
  job.rec.cancel_requested = true;
  job.rec.next_attempt_at_ms = 0;
  out.Store(job.rec);
}

void SyncEngine::OnReply(int64_t now, uint64_t request_id, const HttpResponse* response,
                         const std::string& error, Out& out) {
  auto p = pending_.find(request_id);
  if (p == pending_.end()) {
    ++counters_.ignored_replies;
    return;
  }
  const Pending pending = p->second;
  pending_.erase(p);
  if (pending.op == Op::kFeed) {
    feed_in_flight_ = 0;
    OnFeedReply(now, response, error, out);
    return;
  }
  auto it = jobs_.find(pending.job_id);
  if (it == jobs_.end() || it->second.in_flight != request_id) {
    ++counters_.ignored_replies;
    return;
  }
  JobEntry& job = it->second;
  job.in_flight = 0;
  switch (pending.op) {
    case Op::kSubmit: OnSubmitReply(now, job, response, error, out); break;
    case Op::kResult: OnResultReply(now, job, response, error, out); break;
    case Op::kCancel: OnCancelReply(now, job, response, error, out); break;
    case Op::kUpload: OnUploadReply(now, job, response, error, out); break;
    case Op::kRendition: OnRenditionReply(now, job, response, error, out); break;
    case Op::kFeed: break;
  }
}

void SyncEngine::OnSubmitReply(int64_t now, JobEntry& job, const HttpResponse* r,
                               const std::string& error, Out& out) {
  std::string problem;
  if (Is2xx(r)) {
    Result<JobView> view = ParseJob(r->body);
    if (view.ok() && view->idempotency_key == WireKey(job.rec.idempotency_key, job.rec.resubmits)) {
      job.rec.last_error.clear();
      ApplyView(now, job, *view, out);
      return;
    }
    ++counters_.bad_responses;
    problem = "bad response: " + (view.ok() ? std::string("another job's key")
                                            : view.status().message());
  } else if (IsJobExpired(r)) {
    Expire(job, out);  // a resend of a submission whose job finished and expired meanwhile
    return;
  } else if (!IsRetryable(r)) {
    ApiError e = ParseError(*r);
    job.rec.last_error = e.code + ": " + e.message;
    Finish(job, JobState::kFailed, out,
           std::string("The server refused this ") + What(job.rec.kind) + ": " + e.message);
    return;
  }
  ++counters_.retries;
  job.rec.last_error = problem.empty() ? Describe(r, error) : problem;
  // Only a job still being sent goes back to the queue: one the feed has already shown
  // accepted keeps that state (never moved backwards by a late reply).
  if (job.rec.state == JobState::kSending) Advance(job.rec, JobState::kQueued);
  job.rec.next_attempt_at_ms = now + RetryDelay(now, r, job.rec.attempts);
  out.Store(job.rec);
}

void SyncEngine::OnFeedReply(int64_t now, const HttpResponse* r, const std::string& error,
                             Out& out) {
  if (Is2xx(r)) {
    Result<ChangesPage> page = ParseChanges(r->body);
    if (page.ok()) {
      for (const JobView& view : page->jobs) {
        // Matched by idempotency key: the feed also tells a job whose submit reply was lost.
        auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& kv) {
          return WireKey(kv.second.rec.idempotency_key, kv.second.rec.resubmits) ==
                 view.idempotency_key;
        });
        if (it != jobs_.end()) ApplyView(now, it->second, view, out);
      }
      for (const ExpiredView& gone : page->expired) {
        auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& kv) {
          return WireKey(kv.second.rec.idempotency_key, kv.second.rec.resubmits) ==
                 gone.idempotency_key;
        });
        if (it != jobs_.end()) Expire(it->second, out);
      }
      feed_since_ = std::max(feed_since_, page->next_since);
      feed_failures_ = 0;
      feed_next_at_ = page->more ? now : now + options_.poll_interval_ms;
      return;
    }
    ++counters_.bad_responses;
  } else if (!IsRetryable(r)) {
    ++counters_.bad_responses;  // a 4xx on the feed is a bug on one side; start over, slowly
    feed_since_ = 0;
  }
  ++counters_.retries;
  ++feed_failures_;
  feed_next_at_ = now + RetryDelay(now, r, feed_failures_);
}

void SyncEngine::OnResultReply(int64_t now, JobEntry& job, const HttpResponse* r,
                               const std::string& error, Out& out) {
  if (Is2xx(r)) {
    Result<JobResult> result = ParseResult(r->body);
    if (result.ok() && result->id == job.rec.server_job_id) {
      if (job.rec.kind == JobKind::kImageExport) {
        TakeImageResult(now, job, result->result_json, out);
        return;
      }
      TakeCaptionResult(job, result->result_json, out);
      return;
    }
    ++counters_.bad_responses;
  } else if (IsJobExpired(r)) {
    Expire(job, out);
    return;
  } else if (!IsRetryable(r)) {
    ApiError e = ParseError(*r);
    if (e.code == wire::kNotReady) {
      job.server_state = JobState::kRunning;  // the feed was ahead of the result; wait for it
      return;
    }
    job.rec.last_error = e.code + ": " + e.message;
    Finish(job, JobState::kFailed, out,
           std::string("The server could not return this ") + What(job.rec.kind) + ": " +
               e.message);
    return;
  }
  RetryLater(now, job, r);
}

void SyncEngine::OnCancelReply(int64_t now, JobEntry& job, const HttpResponse* r,
                               const std::string& error, Out& out) {
  if (Is2xx(r)) {
    Result<JobView> view = ParseJob(r->body);
    if (view.ok() && view->id == job.rec.server_job_id) {
      job.failures = 0;
      if (view->state == JobState::kDone) {
        // It finished first: the result is on its way; the creator keeps it.
        job.rec.cancel_requested = false;
        out.Store(job.rec);
        out.Notify(job.rec.id, NoticeKind::kCancelRefused,
                   std::string("Too late to cancel: the ") + What(job.rec.kind) +
                       " had already finished");
      }
      ApplyView(now, job, *view, out);
      return;
    }
    ++counters_.bad_responses;
  } else if (IsJobExpired(r)) {
    Expire(job, out);  // it had finished long ago: nothing left to cancel or to fetch
    return;
  } else if (!IsRetryable(r)) {
    ApiError e = ParseError(*r);
    job.rec.cancel_requested = false;
    out.Store(job.rec);
    out.Notify(job.rec.id, NoticeKind::kCancelRefused, "Could not cancel: " + e.message);
    return;
  }
  RetryLater(now, job, r);
}

void SyncEngine::OnUploadReply(int64_t now, JobEntry& job, const HttpResponse* r,
                               const std::string& error, Out& out) {
  if (Is2xx(r)) {
    job.failures = 0;
    job.rec.source_uploaded = true;
    job.rec.last_error.clear();
    job.rec.next_attempt_at_ms = now;  // submit at once (Pump runs after this)
    out.Store(job.rec);
    return;
  }
  if (!IsRetryable(r)) {
    ApiError e = ParseError(*r);
    job.rec.last_error = e.code + ": " + e.message;
    Finish(job, JobState::kFailed, out,
           std::string("The server refused the photo for this ") + What(job.rec.kind) + ": " +
               e.message);
    return;
  }
  job.rec.last_error = Describe(r, error);
  RetryLater(now, job, r);
}

void SyncEngine::TakeImageResult(int64_t now, JobEntry& job, const std::string& result_json,
                                 Out& out) {
  Result<ImageExportResult> parsed = ParseImageExportResult(result_json);
  if (!parsed.ok()) {
    job.rec.last_error = "bad result: " + parsed.status().message();
    Finish(job, JobState::kFailed, out,
           "The server's result for this HQ export cannot be used: " + parsed.status().message());
    return;
  }
  job.rec.result_json = result_json;
  job.rec.last_error.clear();
  if (parsed->renditions.empty()) {
    Finish(job, JobState::kDone, out, "Your HQ export is ready");
    return;
  }
  // Recorded (still running) before any rendition is fetched: a restart resumes from here.
  out.Store(job.rec);
  job.image = std::move(*parsed);
  job.next_rendition = 0;
  job.failures = 0;
  job.rec.next_attempt_at_ms = now;
}

void SyncEngine::TakeCaptionResult(JobEntry& job, const std::string& result_json, Out& out) {
  Result<CaptionHqResult> parsed = ParseCaptionHqResult(result_json);
  if (!parsed.ok()) {
    job.rec.last_error = "bad result: " + parsed.status().message();
    Finish(job, JobState::kFailed, out,
           "The server's result for this HQ caption cannot be used: " + parsed.status().message());
    return;
  }
  job.rec.last_error.clear();
  if (job.rec.result_json != result_json) {
    // Recorded (still running) before the asset is saved: a restart resumes from here.
    job.rec.result_json = result_json;
    out.Store(job.rec);
  }
  out.list.emplace_back(std::in_place_type<SaveCaptionResult>,
                        SaveCaptionResult{job.rec.id, job.rec.server_job_id, job.rec.preset,
                                          result_json});
  Finish(job, JobState::kDone, out, "Your HQ caption is ready");
}

void SyncEngine::OnRenditionReply(int64_t now, JobEntry& job, const HttpResponse* r,
                                  const std::string& error, Out& out) {
  const RenditionInfo& want = job.image->renditions[job.next_rendition];
  std::string problem;
  if (Is2xx(r)) {
    if (BlobHashOf(r->body) == want.blake2b) {
      SaveRendition save{job.rec.id, job.rec.server_job_id, job.rec.preset, want, *job.image,
                         r->body};
      save.result.renditions.clear();
      out.list.emplace_back(std::move(save));
      ++counters_.renditions_saved;
      job.failures = 0;
      if (++job.next_rendition == job.image->renditions.size()) {
        Finish(job, JobState::kDone, out, "Your HQ export is ready");
        return;
      }
      job.rec.next_attempt_at_ms = now;
      return;
    }
    // Refused: never stored. Damaged on the way or on the server's disk; fetched again a few
    // times, then the job fails rather than keeping a picture that is not the one rendered.
    ++counters_.checksum_mismatches;
    problem = "rendition " + want.name + ": its bytes do not match its BLAKE2b-256";
    if (++job.mismatches >= kMaxRenditionMismatches) {
      job.rec.last_error = "checksum_mismatch: " + problem;
      Finish(job, JobState::kFailed, out,
             "Your HQ export arrived damaged " + std::to_string(job.mismatches) + " times (" +
                 problem + "); nothing was kept. Export it again.");
      return;
    }
  } else if (IsJobExpired(r)) {
    Expire(job, out);
    return;
  } else if (!IsRetryable(r)) {
    ApiError e = ParseError(*r);
    job.rec.last_error = e.code + ": " + e.message;
    Finish(job, JobState::kFailed, out,
           "The server could not return this HQ export's " + want.name + " rendition: " +
               e.message);
    return;
  }
  job.rec.last_error = problem.empty() ? Describe(r, error) : problem;
  RetryLater(now, job, r);
}

void SyncEngine::Resubmit(int64_t now, JobEntry& job, const JobView& view, Out& out) {
  if (job.rec.resubmits >= kMaxResubmits) {
    job.rec.last_error = view.error_code + ": " + view.error_message;
    Finish(job, JobState::kFailed, out,
           "Your HQ export failed: the server lost the photo each time it was sent (" +
               std::to_string(kMaxResubmits + 1) +
               " uploads, blob_missing). Try again later; if it keeps happening, the server's "
               "storage needs its operator.");
    return;
  }
  ++counters_.resubmits;
  if (job.in_flight != 0) {  // a request about the old job: its reply no longer matters
    pending_.erase(job.in_flight);
    job.in_flight = 0;
  }
  ++job.rec.resubmits;
  job.rec.source_uploaded = false;
  job.rec.server_job_id.clear();
  job.rec.last_error = view.error_code + ": " + view.error_message +
                       " (uploading the photo again, try " +
                       std::to_string(job.rec.resubmits + 1) + " of " +
                       std::to_string(kMaxResubmits + 1) + ")";
  job.rec.next_attempt_at_ms = now;
  job.server_state.reset();
  job.failures = 0;
  Advance(job.rec, JobState::kQueued);
  out.Store(job.rec);
}

void SyncEngine::ApplyView(int64_t now, JobEntry& job, const JobView& view, Out& out) {
  if (!job.server_state || Progress(view.state) > Progress(*job.server_state)) {
    job.server_state = view.state;
  }
  bool changed = false;
  if (job.rec.server_job_id != view.id) {
    job.rec.server_job_id = view.id;
    changed = true;
  }
  switch (view.state) {
    case JobState::kFailed: {
      if (view.error_code == kBlobMissingCode && job.rec.kind == JobKind::kImageExport &&
          !job.rec.cancel_requested) {
        Resubmit(now, job, view, out);
        return;
      }
      job.rec.last_error = view.error_code + ": " + view.error_message;
      Finish(job, JobState::kFailed, out,
             std::string("Your ") + What(job.rec.kind) + " failed: " + view.error_message);
      return;
    }
    case JobState::kCancelled:
      Finish(job, JobState::kCancelled, out, std::string(What(job.rec.kind)) + " cancelled");
      return;
    default: {
      // done is recorded as running until the result is in hand (Pump fetches it).
      const JobState target = view.state == JobState::kDone ? JobState::kRunning : view.state;
      if (Progress(target) > Progress(job.rec.state)) {
        Advance(job.rec, target);
        changed = true;
      }
      if (view.state == JobState::kDone) {
        job.failures = 0;
        job.rec.next_attempt_at_ms = now;
      }
    }
  }
  if (changed) out.Store(job.rec);
}

void SyncEngine::Expire(JobEntry& job, Out& out) {
  job.rec.last_error = std::string(wire::kJobExpired) + ": " + kExpiredReason;
  Finish(job, JobState::kFailed, out,
         std::string("Your ") + What(job.rec.kind) + " " + kExpiredReason + ". Create it again " +
             "to get a new one.");
}

void SyncEngine::Finish(JobEntry& job, JobState terminal, Out& out, std::string message) {
  Advance(job.rec, terminal);
  out.Store(job.rec);
  NoticeKind kind = terminal == JobState::kDone     ? NoticeKind::kDone
                    : terminal == JobState::kFailed ? NoticeKind::kFailed
                                                    : NoticeKind::kCancelled;
  out.Notify(job.rec.id, kind, std::move(message));
  if (job.in_flight != 0) pending_.erase(job.in_flight);
  jobs_.erase(job.rec.id);  // `job` dangles from here on
}

void SyncEngine::Advance(OutboxRecord& rec, JobState to) {
  // The canonical path forward; a jump (sending -> done) walks through its steps, so every
  // state the outbox records follows the state machine.
  while (rec.state != to) {
    if (CheckTransition(rec.state, to).ok()) {
      rec.state = to;
      break;
    }
    JobState next;
    switch (rec.state) {
      case JobState::kQueued: next = JobState::kSending; break;
      case JobState::kSending: next = JobState::kAccepted; break;
      case JobState::kAccepted: next = JobState::kRunning; break;
      default: return;  // unreachable: terminal states are never advanced (Finish erases)
    }
    rec.state = next;
  }
}

void SyncEngine::RetryLater(int64_t now, JobEntry& job, const HttpResponse* r) {
  ++counters_.retries;
  ++job.failures;
  job.rec.next_attempt_at_ms = now + RetryDelay(now, r, job.failures);
}

int64_t SyncEngine::RetryDelay(int64_t now, const HttpResponse* r, int64_t failures) {
  if (r != nullptr && (r->status == 429 || r->status == 503)) {
    if (auto value = FindHeader(r->headers, "Retry-After")) {
      if (auto ms = ParseRetryAfterMs(*value, now)) return *ms;
    }
  }
  return options_.backoff.DelayMs(failures, rng_);
}

bool SyncEngine::FeedNeeded() const {
  return std::any_of(jobs_.begin(), jobs_.end(), [](const auto& kv) {
    const JobEntry& j = kv.second;
    return Progress(j.rec.state) >= Progress(JobState::kAccepted) &&
           j.server_state != JobState::kDone && !j.image;
  });
}

uint64_t SyncEngine::StartRequest(int64_t now, Op op, int64_t job_id, HttpRequest request,
                                  Out& out) {
  const uint64_t rid = next_request_id_++;
  pending_[rid] = Pending{op, job_id, now + options_.request_timeout_ms};
  ++counters_.sends;
  out.list.push_back(Send{rid, std::move(request)});
  return rid;
}

uint64_t SyncEngine::StartUpload(int64_t now, int64_t job_id, const std::string& hash, Out& out) {
  const uint64_t rid = next_request_id_++;
  pending_[rid] = Pending{Op::kUpload, job_id, now + options_.upload_timeout_ms};
  ++counters_.sends;
  ++counters_.uploads;
  out.list.push_back(UploadBlob{rid, job_id, hash});
  return rid;
}

void SyncEngine::Pump(int64_t now, Out& out) {
  int64_t wake = std::numeric_limits<int64_t>::max();
  for (const auto& [rid, p] : pending_) wake = std::min(wake, p.deadline_ms);
  if (online_) {
    std::vector<int64_t> ids;
    for (const auto& [id, job] : jobs_) ids.push_back(id);
    for (int64_t id : ids) {
      auto it = jobs_.find(id);
      if (it == jobs_.end()) continue;
      JobEntry& job = it->second;
      OutboxRecord& rec = job.rec;
      const bool wants_submit = rec.state == JobState::kQueued || rec.state == JobState::kSending;
      const bool wants_rendition = job.image.has_value() && !wants_submit;
      const bool wants_result = job.server_state == JobState::kDone && !job.image;
      const bool wants_cancel = rec.cancel_requested && !rec.server_job_id.empty() &&
                                !(job.server_state && IsTerminal(*job.server_state));
      const bool wants_any = wants_submit || wants_result || wants_rendition || wants_cancel;
      if (job.in_flight != 0 || !wants_any) continue;
      if (rec.next_attempt_at_ms > now) {
        wake = std::min(wake, rec.next_attempt_at_ms);
        continue;
      }
      if (wants_submit && rec.kind == JobKind::kImageExport && !rec.source_uploaded) {
        // The source goes first: a job whose source the server does not have would fail.
        if (std::optional<std::string> source = SourceOf(rec.payload_json)) {
          job.in_flight = StartUpload(now, id, *source, out);
          wake = std::min(wake, now + options_.upload_timeout_ms);
          continue;
        }
      }
      if (wants_submit) {
        Result<HttpRequest> req = MakeSubmitRequest(
            {WireKey(rec.idempotency_key, rec.resubmits), rec.kind, rec.preset, rec.payload_json});
        if (!req.ok()) {
          rec.last_error = req.status().message();
          Finish(job, JobState::kFailed, out,
                 std::string("This ") + What(rec.kind) + " cannot be sent: " +
                     req.status().message());
          continue;
        }
        // Durable before sent: the attempt is recorded first, so a job with attempts == 0 was
        // certainly never seen by the server.
        Advance(rec, JobState::kSending);
        ++rec.attempts;
        out.Store(rec);
        job.in_flight = StartRequest(now, Op::kSubmit, id, std::move(*req), out);
      } else if (wants_rendition) {
        job.in_flight = StartRequest(
            now, Op::kRendition, id,
            MakeRenditionRequest(rec.server_job_id, job.image->renditions[job.next_rendition].name),
            out);
      } else if (wants_result) {
        job.in_flight = StartRequest(now, Op::kResult, id, MakeResultRequest(rec.server_job_id), out);
      } else {
        job.in_flight = StartRequest(now, Op::kCancel, id, MakeCancelRequest(rec.server_job_id), out);
      }
      wake = std::min(wake, now + options_.request_timeout_ms);
    }
    if (FeedNeeded() && feed_in_flight_ == 0) {
      if (feed_next_at_ <= now) {
        feed_in_flight_ = StartRequest(now, Op::kFeed, 0, MakeChangesRequest(feed_since_), out);
        wake = std::min(wake, now + options_.request_timeout_ms);
      } else {
        wake = std::min(wake, feed_next_at_);
      }
    }
  }
  if (wake != std::numeric_limits<int64_t>::max()) {
    out.list.emplace_back(std::in_place_type<WakeAt>, WakeAt{wake});
  }
}

}  // namespace cairn::sync
