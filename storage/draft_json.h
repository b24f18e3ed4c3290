// Drafts as JSON, one shape for every host: the C ABI hands it to the browser worker, and
// cairn-vault exports it. {"id", "version", "created_at_ms", "updated_at_ms", "caption",
// "hashtags", "status", "prompt": {"task", "context", "style", "output_format"}}.
#ifndef CAIRN_STORAGE_DRAFT_JSON_H_
#define CAIRN_STORAGE_DRAFT_JSON_H_

#include <nlohmann/json.hpp>

#include "storage/vault.h"

namespace cairn::storage {

// The content alone (caption, hashtags, status, prompt): a draft's history entries have it too.
nlohmann::json DraftContentJson(const DraftInput& content);
// The content with the draft's id, version and timestamps.
nlohmann::json DraftJson(const Draft& draft);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_DRAFT_JSON_H_
