#include "core/engine/caption_json.h"

namespace cairn::engine {

using nlohmann::json;

json SafetyVerdictJson(const safety::Verdict& v) {
  json findings = json::array();
  for (const safety::Finding& f : v.findings) {
    findings.push_back({{"term", f.term},
                        {"category", safety::CategoryName(f.category)},
                        {"level", safety::LevelName(f.level)},
                        {"reason", f.reason},
                        {"begin", f.begin},
                        {"end", f.end}});
  }
  return {{"level", safety::LevelName(v.level)}, {"findings", findings}};
}

json ProvenanceJson(const Provenance& p) {
  return {{"model_id", p.model_id},         {"model_version", p.model_version},
          {"model_checksum", p.model_checksum}, {"quantization", p.quantization},
          {"backend", p.backend},           {"tier", p.tier},
          {"preset", p.preset},             {"prompt_schema", p.prompt_schema},
          {"seed", p.seed}};
}

json CaptionResultJson(const CaptionResult& r) {
  json captions = json::array();
  for (const CheckedCaption& c : r.captions) {
    captions.push_back({{"text", c.text},
                        {"ok", c.ok()},
                        {"problems", c.problems},
                        {"safety", SafetyVerdictJson(c.safety)}});
  }
  return {{"captions", captions},
          {"problems", r.problems},
          {"provenance", ProvenanceJson(r.provenance)},
          {"stats",
           {{"finish", generation::FinishReasonName(r.finish)},
            {"prompt_tokens", r.prompt_tokens},
            {"generated_tokens", r.generated_tokens},
            {"context_truncated", r.context_truncated},
            {"prefill_ms", r.prefill_ms},
            {"total_ms", r.total_ms},
            {"tokens_per_second", r.tokens_per_second}}}};
}

}  // namespace cairn::engine
