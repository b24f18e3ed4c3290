#include "sync/job.h"

#include <iterator>
#include <string>

namespace cairn::sync {
namespace {

constexpr JobState kAllStates[] = {JobState::kQueued,  JobState::kSending, JobState::kAccepted,
                                   JobState::kRunning, JobState::kDone,    JobState::kFailed,
                                   JobState::kCancelled};

bool Allowed(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::kQueued:
      return to == S::kSending || to == S::kCancelled;
    case S::kSending:
      return to == S::kQueued || to == S::kAccepted || to == S::kFailed || to == S::kCancelled;
    // -> queued: the device alone, resubmitting an image export whose source the server lost.
    case S::kAccepted:
      return to == S::kRunning || to == S::kFailed || to == S::kCancelled || to == S::kQueued;
    case S::kRunning:
      return to == S::kAccepted || to == S::kDone || to == S::kFailed || to == S::kCancelled ||
             to == S::kQueued;
    case S::kDone:
    case S::kFailed:
    case S::kCancelled:
      return false;
  }
  return false;
}

}  // namespace

const char* JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kCaptionHq: return "caption-hq";
    case JobKind::kImageExport: return "image-export";
  }
  return "?";
}

const char* PresetName(Preset preset) {
  switch (preset) {
    case Preset::kLow: return "low";
    case Preset::kPreview: return "preview";
    case Preset::kFinal: return "final";
  }
  return "?";
}

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kSending: return "sending";
    case JobState::kAccepted: return "accepted";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "?";
}

std::optional<JobKind> ParseJobKind(std::string_view name) {
  for (JobKind k : {JobKind::kCaptionHq, JobKind::kImageExport}) {
    if (name == JobKindName(k)) return k;
  }
  return std::nullopt;
}

std::optional<Preset> ParsePreset(std::string_view name) {
  for (Preset p : {Preset::kLow, Preset::kPreview, Preset::kFinal}) {
    if (name == PresetName(p)) return p;
  }
  return std::nullopt;
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : kAllStates) {
    if (name == JobStateName(s)) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state == JobState::kDone || state == JobState::kFailed || state == JobState::kCancelled;
}

Status CheckTransition(JobState from, JobState to) {
  if (Allowed(from, to)) return Status::Ok();
  std::string allowed;
  for (JobState s : kAllStates) {
    if (!Allowed(from, s)) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += JobStateName(s);
  }
  return FailedPrecondition(std::string("a job cannot go from ") + JobStateName(from) + " to " +
                            JobStateName(to) + " (allowed: " +
                            (allowed.empty() ? std::string("none, it is final") : allowed) + ")");
}

bool IsReachable(JobState from, JobState to) {
  bool seen[std::size(kAllStates)] = {};
  JobState stack[std::size(kAllStates)];
  int top = 0;
  stack[top++] = from;
  seen[static_cast<int>(from)] = true;
  while (top > 0) {
    const JobState s = stack[--top];
    if (s == to) return true;
    for (JobState n : kAllStates) {
      if (!seen[static_cast<int>(n)] && Allowed(s, n)) {
        seen[static_cast<int>(n)] = true;
        stack[top++] = n;
      }
    }
  }
  return false;
}

int Progress(JobState state) {
  switch (state) {
    case JobState::kQueued: return 0;
    case JobState::kSending: return 1;
    case JobState::kAccepted: return 2;
    case JobState::kRunning: return 3;
    default: return 4;
  }
}

}  // namespace cairn::sync
