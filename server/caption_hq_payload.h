// The payload of a caption-hq job (sync/PROTOCOL.md, "caption-hq payload"): the caption request a
// device ran locally, minus what the server decides itself (the output format, the preset).
//
//   {"task": "Write 3 Instagram captions",       // required, 1..2000 bytes
//    "context": "beach at sunset; sea, sky",     // optional, at most 8000 bytes
//    "style": "warm, short",                     // optional, at most 2000 bytes
//    "count": 3, "max_chars": 220,               // 1..10 (3), 1..2200 (220)
//    "max_hashtags": 10,                         // -1 (no limit)..30 (10)
//    "emoji_required": false,
//    "banned": ["brand"],                        // at most 50 words of 1..100 bytes
//    "seed": 7}                                  // 0..2^53-1; default: from the job id
//
//   Result<CaptionHqPayload> p = ParseCaptionHqPayload(lease.payload_json, lease.job_id);
//   // p.status().message(): "field 'count' must be a whole number from 1 to 10, not 0"
//
// Parsed strictly, like every request of the protocol: an unknown field, a wrong type or a value
// out of range is an error (kInvalidArgument) naming the field; the job then fails with
// kBadPayload. Pure: no I/O, any thread.
#ifndef CAIRN_SERVER_CAPTION_HQ_PAYLOAD_H_
#define CAIRN_SERVER_CAPTION_HQ_PAYLOAD_H_

#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "core/engine/caption_engine.h"

namespace cairn::server {

inline constexpr char kBadPayload[] = "bad_payload";
inline constexpr int64_t kMaxPayloadSeed = (int64_t{1} << 53) - 1;  // exact in every JSON reader

struct CaptionHqPayload {
  engine::CaptionRequest request;  // prompt and constraints; preset "final"; seed set
  bool seed_given = false;
};

// job_id gives the default seed, so a retried job samples what its first attempt did.
Result<CaptionHqPayload> ParseCaptionHqPayload(std::string_view payload_json,
                                               std::string_view job_id);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAPTION_HQ_PAYLOAD_H_
