#include "sync/tier_policy.h"

#include <catch_amalgamated.hpp>

namespace cairn::sync {
namespace {

const DeviceCapabilities kCapable{true, 8};
const DeviceCapabilities kIncapable{false, 8};

TEST_CASE("final always renders in the cloud") {
  for (const auto& caps : {kCapable, kIncapable}) {
    for (std::optional<double> p95 : {std::optional<double>(), std::optional<double>(50.0)}) {
      CHECK(ChooseTier(Preset::kFinal, caps, p95).tier == Tier::kCloud);
    }
  }
}

TEST_CASE("preview stays on the device only while p95 is under 400 ms") {
  TierDecision fast = ChooseTier(Preset::kPreview, kCapable, 310);
  CHECK(fast.tier == Tier::kDevice);
  CHECK(fast.reason == "preview on this device (p95 310 ms < 400 ms)");
  CHECK(ChooseTier(Preset::kPreview, kCapable, 399.4).tier == Tier::kDevice);
  TierDecision slow = ChooseTier(Preset::kPreview, kCapable, 400);
  CHECK(slow.tier == Tier::kEdge);
  CHECK(slow.reason == "preview on the edge: this device is too slow (p95 400 ms >= 400 ms)");
  CHECK(ChooseTier(Preset::kPreview, kCapable, std::nullopt).tier == Tier::kEdge);
}

TEST_CASE("low runs on the device unless it cannot or is hopelessly slow") {
  CHECK(ChooseTier(Preset::kLow, kCapable, std::nullopt).tier == Tier::kDevice);
  CHECK(ChooseTier(Preset::kLow, kCapable, 1999).tier == Tier::kDevice);
  CHECK(ChooseTier(Preset::kLow, kCapable, 2001).tier == Tier::kEdge);
  CHECK(ChooseTier(Preset::kLow, kIncapable, 10).tier == Tier::kEdge);
  CHECK(ChooseTier(Preset::kLow, DeviceCapabilities{true, 0.5}, 10).tier == Tier::kEdge);
  CHECK(ChooseTier(Preset::kLow, DeviceCapabilities{true, 0}, 10).tier == Tier::kDevice);
  CHECK(std::string(TierName(Tier::kEdge)) == "edge");
}

}  // namespace
}  // namespace cairn::sync
