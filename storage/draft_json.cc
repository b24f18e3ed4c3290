#include "storage/draft_json.h"

namespace cairn::storage {

nlohmann::json DraftContentJson(const DraftInput& c) {
  return {{"caption", c.caption},
          {"hashtags", c.hashtags},
          {"status", c.status},
          {"prompt",
           {{"task", c.prompt.task},
            {"context", c.prompt.context},
            {"style", c.prompt.style},
            {"output_format", c.prompt.output_format}}}};
}

nlohmann::json DraftJson(const Draft& d) {
  nlohmann::json j = DraftContentJson(d.content);
  j["id"] = d.id;
  j["version"] = d.version;
  j["created_at_ms"] = d.created_at_ms;
  j["updated_at_ms"] = d.updated_at_ms;
  return j;
}

}  // namespace cairn::storage
