#include "server/caption_hq_payload.h"

#include <nlohmann/json.hpp>
#include <string>

#include "core/crypto/hash.h"

namespace cairn::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxTaskBytes = 2000, kMaxContextBytes = 8000, kMaxStyleBytes = 2000;
constexpr size_t kMaxBanned = 50, kMaxBannedBytes = 100;
constexpr char kFields[] =
    "task, context, style, count, max_chars, max_hashtags, emoji_required, banned, seed";

Status Bad(const std::string& message) {
  return Status(StatusCode::kInvalidArgument, "caption-hq payload: " + message);
}

Result<std::string> Text(const json& v, const std::string& key, size_t min, size_t max) {
  if (!v.is_string()) return Bad("field '" + key + "' must be a string");
  std::string s = v.get<std::string>();
  if (s.size() < min || s.size() > max) {
    return Bad("field '" + key + "' must be " + std::to_string(min) + " to " +
               std::to_string(max) + " bytes, not " + std::to_string(s.size()));
  }
  return s;
}

Result<int64_t> Whole(const json& v, const std::string& key, int64_t lo, int64_t hi) {
  const std::string range =
      " a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!v.is_number_integer()) return Bad("field '" + key + "' must be" + range);
  // Unsigned values beyond int64 read as negative through get<int64_t>: check the sign first.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    return Bad("field '" + key + "' must be" + range + ", not " + v.dump());
  }
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) return Bad("field '" + key + "' must be" + range + ", not " + v.dump());
  return n;
}

uint64_t SeedFromJobId(std::string_view job_id) {
  const Bytes h = crypto::Blake2bHash(AsBytes(job_id), 16).value();  // cannot fail: 16 is valid
  uint64_t seed = 0;
  for (size_t i = 0; i < 8; ++i) seed = (seed << 8) | h[i];
  return seed & static_cast<uint64_t>(kMaxPayloadSeed);
}

}  // namespace

Result<CaptionHqPayload> ParseCaptionHqPayload(std::string_view payload_json,
                                               std::string_view job_id) {
  json j = json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("not a JSON object");
  CaptionHqPayload out;
  engine::CaptionRequest& r = out.request;
  caption::Constraints& c = r.constraints;
  r.preset = "final";
  bool has_task = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = *it;
    if (k == "task") {
      CAIRN_ASSIGN_OR_RETURN(r.prompt.task, Text(v, k, 1, kMaxTaskBytes));
      has_task = true;
    } else if (k == "context") {
      CAIRN_ASSIGN_OR_RETURN(r.prompt.context, Text(v, k, 0, kMaxContextBytes));
    } else if (k == "style") {
      CAIRN_ASSIGN_OR_RETURN(r.prompt.style, Text(v, k, 0, kMaxStyleBytes));
    } else if (k == "count") {
      CAIRN_ASSIGN_OR_RETURN(int64_t n, Whole(v, k, 1, 10));
      c.count = static_cast<int>(n);
    } else if (k == "max_chars") {
      CAIRN_ASSIGN_OR_RETURN(int64_t n, Whole(v, k, 1, 2200));
      c.max_chars = static_cast<int>(n);
    } else if (k == "max_hashtags") {
      CAIRN_ASSIGN_OR_RETURN(int64_t n, Whole(v, k, -1, 30));
      c.max_hashtags = static_cast<int>(n);
    } else if (k == "emoji_required") {
      if (!v.is_boolean()) return Bad("field 'emoji_required' must be true or false");
      c.emoji_required = v.get<bool>();
    } else if (k == "banned") {
      if (!v.is_array()) return Bad("field 'banned' must be an array of strings");
      if (v.size() > kMaxBanned) {
        return Bad("field 'banned' has " + std::to_string(v.size()) + " words; at most " +
                   std::to_string(kMaxBanned));
      }
      for (size_t i = 0; i < v.size(); ++i) {
        CAIRN_ASSIGN_OR_RETURN(std::string w,
                               Text(v[i], "banned[" + std::to_string(i) + "]", 1, kMaxBannedBytes));
        c.banned.push_back(std::move(w));
      }
    } else if (k == "seed") {
      CAIRN_ASSIGN_OR_RETURN(int64_t n, Whole(v, k, 0, kMaxPayloadSeed));
      r.seed = static_cast<uint64_t>(n);
      out.seed_given = true;
    } else {
      return Bad("'" + k + "' is not a field of a caption-hq payload (its fields: " + kFields +
                 ")");
    }
  }
  if (!has_task) return Bad("the field 'task' is missing (what the captions are for)");
  if (!out.seed_given) r.seed = SeedFromJobId(job_id);
  return out;
}

}  // namespace cairn::server
