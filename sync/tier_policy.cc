#include "sync/tier_policy.h"

#include <cmath>

namespace cairn::sync {
namespace {

std::string Ms(double ms) { return std::to_string(std::lround(ms)) + " ms"; }

}  // namespace

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kDevice: return "device";
    case Tier::kEdge: return "edge";
    case Tier::kCloud: return "cloud";
  }
  return "?";
}

TierDecision ChooseTier(Preset preset, const DeviceCapabilities& caps,
                        std::optional<double> p95_ms) {
  if (preset == Preset::kFinal) return {Tier::kCloud, "final renders run in the cloud"};
  const char* name = PresetName(preset);
  if (!caps.can_run_locally) {
    return {Tier::kEdge, std::string(name) + " on the edge: this device cannot run the model"};
  }
  // 0 means the browser did not say; only a known small memory rules the device out.
  if (caps.device_memory_gb > 0 && caps.device_memory_gb < kMinDeviceMemoryGb) {
    return {Tier::kEdge, std::string(name) + " on the edge: too little memory on this device"};
  }
  if (preset == Preset::kPreview) {
    if (!p95_ms) return {Tier::kEdge, "preview on the edge until this device is measured"};
    if (*p95_ms < kFastPreviewP95Ms) {
      return {Tier::kDevice, "preview on this device (p95 " + Ms(*p95_ms) + " < " +
                                 Ms(kFastPreviewP95Ms) + ")"};
    }
    return {Tier::kEdge, "preview on the edge: this device is too slow (p95 " + Ms(*p95_ms) +
                             " >= " + Ms(kFastPreviewP95Ms) + ")"};
  }
  if (p95_ms && *p95_ms > kLowMaxP95Ms) {
    return {Tier::kEdge, "low on the edge: this device is too slow (p95 " + Ms(*p95_ms) + " > " +
                             Ms(kLowMaxP95Ms) + ")"};
  }
  return {Tier::kDevice, "low on this device"};
}

}  // namespace cairn::sync
