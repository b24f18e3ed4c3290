// Tier policy: which tier (device, edge or cloud) serves a preset, from what the device can do
// and how fast it measured itself. A pure function: same inputs, same answer; the app shows the
// reason so the fallback is transparent to the creator.
//
//   DeviceCapabilities caps{.can_run_locally = true, .device_memory_gb = 4};
//   TierDecision d = ChooseTier(Preset::kPreview, caps, /*p95_ms=*/310);
//   // d.tier == Tier::kDevice, d.reason == "preview on this device (p95 310 ms < 400 ms)"
//
// Rules (DESIGN.md, "what the field asks"):
//   - final is an HQ render: always the cloud, whatever the device.
//   - preview runs on the device only while its measured p95 is under 400 ms ("fast preview");
//     unmeasured or slower, it goes to the edge.
//   - low runs on the device unless the device is hopeless for it (p95 over 2 s), then the edge.
//   - a device that cannot run the model at all (no usable backend, too little memory) sends
//     low and preview to the edge.
#ifndef CAIRN_SYNC_TIER_POLICY_H_
#define CAIRN_SYNC_TIER_POLICY_H_

#include <optional>
#include <string>

#include "sync/job.h"

namespace cairn::sync {

enum class Tier { kDevice, kEdge, kCloud };
const char* TierName(Tier tier);  // "device", "edge", "cloud" (as in Provenance::tier)

struct DeviceCapabilities {
  bool can_run_locally = false;  // some backend (wasm SIMD, WebGPU, native) loads the model
  double device_memory_gb = 0;   // navigator.deviceMemory (0: unknown)
};

struct TierDecision {
  Tier tier = Tier::kCloud;
  std::string reason;  // for the UI: why this tier
};

inline constexpr double kFastPreviewP95Ms = 400;
inline constexpr double kLowMaxP95Ms = 2000;
inline constexpr double kMinDeviceMemoryGb = 1;

// `p95_ms`: the measured p95 latency of this model on this device, nullopt if never measured.
TierDecision ChooseTier(Preset preset, const DeviceCapabilities& caps,
                        std::optional<double> p95_ms);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_TIER_POLICY_H_
