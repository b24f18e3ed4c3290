// The result of a caption-hq job as the device keeps it (sync/PROTOCOL.md, "caption-hq"): the
// captions and the provenance of the model that wrote them, checked before anything is stored.
//
//   Result<CaptionHqResult> r = ParseCaptionHqResult(result_json);
//   // r->captions[0] "Golden hour on the pier", r->provenance.model_id "cairn-caption-starter"
//
// The result comes from the server and its text from a model, so it is parsed as untrusted: the
// provenance fields must be short strings without control characters, the checksum 64 lowercase
// hex digits, the tier and preset known names; each caption a string of at most
// kMaxCaptionBytes. The captions stay data: whoever shows them renders them as text. Fields the
// device does not use (stats, safety, hq) are ignored; a v1 server may add some.
#ifndef CAIRN_SYNC_CAPTION_HQ_RESULT_H_
#define CAIRN_SYNC_CAPTION_HQ_RESULT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/provenance/provenance.h"

namespace cairn::sync {

// The most captions a caption-hq payload may ask for (sync/PROTOCOL.md), and the longest caption
// kept: 2200 characters (the payload's max_chars limit) of up to 4 bytes each, with room to spare.
inline constexpr size_t kMaxHqCaptions = 10;
inline constexpr size_t kMaxCaptionBytes = 16 * 1024;

struct CaptionHqResult {
  std::vector<std::string> captions;  // best first; untrusted model output
  Provenance provenance;              // what the server ran, as it says
};

// kInvalidArgument naming the field for a result this device will not keep.
Result<CaptionHqResult> ParseCaptionHqResult(std::string_view result_json);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_CAPTION_HQ_RESULT_H_
