#include "sync/job_store.h"

namespace cairn::sync {
namespace {

// Rounds of (read candidates, race for them) before telling the caller nothing was claimable:
// it polls again soon, so giving up under heavy contention is safe.
constexpr int kClaimRounds = 8;
constexpr int kCandidatesPerRound = 8;

}  // namespace

Result<std::optional<StoredJob>> JobStore::ClaimNext(int64_t now_ms, const ClaimRule& rule) {
  for (int round = 0; round < kClaimRounds; ++round) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<StoredJob> candidates,
                           Claimable(now_ms, kCandidatesPerRound));
    if (candidates.empty()) return std::optional<StoredJob>();
    for (const StoredJob& candidate : candidates) {
      ClaimDecision decision = rule(candidate);
      CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> written, CompareAndSwap(decision.job));
      if (!written) continue;  // another claimer changed it first
      if (decision.leased) return written;
    }
  }
  return std::optional<StoredJob>();
}

}  // namespace cairn::sync
