#include "sync/job.h"

#include <catch_amalgamated.hpp>

namespace cairn::sync {
namespace {

constexpr JobState kAll[] = {JobState::kQueued,  JobState::kSending, JobState::kAccepted,
                             JobState::kRunning, JobState::kDone,    JobState::kFailed,
                             JobState::kCancelled};

TEST_CASE("job names round-trip and nothing else parses") {
  for (JobState s : kAll) CHECK(ParseJobState(JobStateName(s)) == s);
  CHECK(ParseJobKind("caption-hq") == JobKind::kCaptionHq);
  CHECK(ParseJobKind("image-export") == JobKind::kImageExport);
  CHECK(ParsePreset("preview") == Preset::kPreview);
  CHECK_FALSE(ParseJobState("Done").has_value());
  CHECK_FALSE(ParseJobKind("print").has_value());
  CHECK_FALSE(ParsePreset("").has_value());
}

TEST_CASE("the state machine allows exactly the documented transitions") {
  using S = JobState;
  const std::pair<S, S> allowed[] = {
      {S::kQueued, S::kSending},     {S::kQueued, S::kCancelled},  {S::kSending, S::kQueued},
      {S::kSending, S::kAccepted},   {S::kSending, S::kFailed},    {S::kSending, S::kCancelled},
      {S::kAccepted, S::kRunning},   {S::kAccepted, S::kFailed},   {S::kAccepted, S::kCancelled},
      {S::kRunning, S::kAccepted},   {S::kRunning, S::kDone},      {S::kRunning, S::kFailed},
      {S::kRunning, S::kCancelled},
      // The device's resubmission of an image export whose source the server lost.
      {S::kAccepted, S::kQueued},    {S::kRunning, S::kQueued}};
  int ok_count = 0;
  for (S from : kAll) {
    for (S to : kAll) {
      bool expected = false;
      for (auto [f, t] : allowed) expected = expected || (f == from && t == to);
      INFO(JobStateName(from) << " -> " << JobStateName(to));
      CHECK(CheckTransition(from, to).ok() == expected);
      ok_count += expected;
    }
  }
  CHECK(ok_count == 15);
}

TEST_CASE("an illegal transition is refused with both states and the allowed ones") {
  Status s = CheckTransition(JobState::kQueued, JobState::kDone);
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message() == "a job cannot go from queued to done (allowed: sending, cancelled)");
  CHECK(CheckTransition(JobState::kDone, JobState::kFailed).message() ==
        "a job cannot go from done to failed (allowed: none, it is final)");
}

TEST_CASE("terminal states are final and unreachable from each other") {
  for (JobState t : {JobState::kDone, JobState::kFailed, JobState::kCancelled}) {
    CHECK(IsTerminal(t));
    for (JobState s : kAll) CHECK(IsReachable(t, s) == (s == t));
  }
  CHECK(IsReachable(JobState::kQueued, JobState::kDone));
  CHECK(IsReachable(JobState::kRunning, JobState::kAccepted));
  CHECK(IsReachable(JobState::kAccepted, JobState::kQueued));  // resubmission only
  CHECK_FALSE(IsReachable(JobState::kDone, JobState::kQueued));
  CHECK(Progress(JobState::kQueued) < Progress(JobState::kSending));
  CHECK(Progress(JobState::kRunning) < Progress(JobState::kDone));
}

}  // namespace
}  // namespace cairn::sync
