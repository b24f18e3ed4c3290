#include "sync/caption_hq_result.h"

#include <nlohmann/json.hpp>

#include "sync/blob_store.h"

namespace cairn::sync {
namespace {

using nlohmann::json;

Status Bad(const std::string& message) {
  return InvalidArgument("caption-hq result: " + message);
}

// A provenance field: a string of at most `max` bytes with no control characters (it is shown
// to the creator and exported with the asset).
Status ProvenanceText(const json& p, const char* name, size_t min, size_t max, std::string* out) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_string()) {
    return Bad(std::string("'provenance.") + name + "' must be a string");
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() < min || s.size() > max) {
    return Bad(std::string("'provenance.") + name + "' must be " + std::to_string(min) + ".." +
               std::to_string(max) + " bytes, not " + std::to_string(s.size()));
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return Bad(std::string("'provenance.") + name + "' has a control character");
    }
  }
  *out = s;
  return Status::Ok();
}

}  // namespace

Result<CaptionHqResult> ParseCaptionHqResult(std::string_view result_json) {
  // nlohmann's parser refuses invalid UTF-8, so every string below is valid text.
  const json j = json::parse(result_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Bad("not a JSON object");
  auto list = j.find("captions");
  if (list == j.end() || !list->is_array()) return Bad("needs a 'captions' array");
  if (list->size() > kMaxHqCaptions) {
    return Bad(std::to_string(list->size()) + " captions; at most " +
               std::to_string(kMaxHqCaptions) + " are kept");
  }
  CaptionHqResult r;
  for (const json& c : *list) {
    const std::string at = "caption " + std::to_string(r.captions.size());
    if (!c.is_object()) return Bad(at + " is not an object");
    auto text = c.find("text");
    if (text == c.end() || !text->is_string()) return Bad(at + ": 'text' must be a string");
    const std::string& s = text->get_ref<const std::string&>();
    if (s.size() > kMaxCaptionBytes) {
      return Bad(at + ": 'text' is " + std::to_string(s.size()) + " bytes; the limit is " +
                 std::to_string(kMaxCaptionBytes));
    }
    r.captions.push_back(s);
  }
  auto p = j.find("provenance");
  if (p == j.end() || !p->is_object()) return Bad("needs a 'provenance' object");
  Provenance& v = r.provenance;
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "model_id", 1, 128, &v.model_id));
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "model_version", 1, 64, &v.model_version));
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "model_checksum", 64, 64, &v.model_checksum));
  if (!IsBlobHash(v.model_checksum)) {
    return Bad("'provenance.model_checksum' must be 64 lowercase hex digits (BLAKE2b-256)");
  }
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "quantization", 0, 32, &v.quantization));
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "backend", 1, 64, &v.backend));
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "tier", 1, 16, &v.tier));
  if (v.tier != "device" && v.tier != "edge" && v.tier != "cloud") {
    return Bad("'provenance.tier' must be device, edge or cloud, not '" + v.tier + "'");
  }
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "preset", 1, 16, &v.preset));
  if (v.preset != "low" && v.preset != "preview" && v.preset != "final") {
    return Bad("'provenance.preset' must be low, preview or final, not '" + v.preset + "'");
  }
  CAIRN_RETURN_IF_ERROR(ProvenanceText(*p, "prompt_schema", 0, 64, &v.prompt_schema));
  auto seed = p->find("seed");
  if (seed != p->end()) {
    if (!seed->is_number_unsigned()) {
      return Bad("'provenance.seed' must be a whole number from 0 to 2^64-1");
    }
    v.seed = seed->get<uint64_t>();
  }
  return r;
}

}  // namespace cairn::sync
