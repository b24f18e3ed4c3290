// The job model shared by the client sync engine and the server: kinds, presets, states, and the
// state machine that says which state may follow which.
//
//   Status s = CheckTransition(JobState::kQueued, JobState::kDone);
//   // s: kFailedPrecondition, "a job cannot go from queued to done (allowed: sending, cancelled)"
//
// States and who moves a job through them:
//
//   queued ──> sending ──> accepted ──> running ──> done
//     │  ^        │  │        │  ^         │ │
//     │  └────────┘  │        │  └─────────┘ └──> failed | cancelled
//     │   (retry)    │        │ (lease expired: back to the server's queue)
//     v              v        v
//   cancelled   failed | cancelled   failed | cancelled
//
// queued and sending exist only on the device (the outbox); accepted, running and the terminal
// states are the server's, mirrored by the device. One edge goes back, on the device only:
// accepted or running -> queued, when an image export is submitted again under a new key
// because the server lost its source (blob_missing; sync/engine.h). The server never takes it.
// done, failed and cancelled are terminal: nothing leaves them. A job is cancelled on the device alone only while it was never sent.
#ifndef CAIRN_SYNC_JOB_H_
#define CAIRN_SYNC_JOB_H_

#include <optional>
#include <string_view>

#include "core/base/status.h"

namespace cairn::sync {

enum class JobKind { kCaptionHq, kImageExport };
enum class Preset { kLow, kPreview, kFinal };
enum class JobState { kQueued, kSending, kAccepted, kRunning, kDone, kFailed, kCancelled };

// Wire and storage names: "caption-hq", "low", "accepted", ... Never null.
const char* JobKindName(JobKind kind);
const char* PresetName(Preset preset);
const char* JobStateName(JobState state);

// The inverse; nullopt for anything else (names are case-sensitive).
std::optional<JobKind> ParseJobKind(std::string_view name);
std::optional<Preset> ParsePreset(std::string_view name);
std::optional<JobState> ParseJobState(std::string_view name);

bool IsTerminal(JobState state);

// OK if `to` may directly follow `from`; otherwise kFailedPrecondition naming both states and
// the allowed successors.
Status CheckTransition(JobState from, JobState to);

// Whether `to` can follow `from` through one or more legal transitions (or is `from`).
bool IsReachable(JobState from, JobState to);

// How far along a job is, for a device catching up with the server: the device applies a state
// the server reports only if its progress is greater (a stale or reordered response never moves
// a job backwards). queued 0, sending 1, accepted 2, running 3, terminal 4.
int Progress(JobState state);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_JOB_H_
