// CaptionResult as JSON, the one shape every host shows: cairn-cli prints it, the wasm API hands
// it to the browser worker. Captions stay plain strings: render them as text, never as HTML.
//
//   {"captions": [{"text", "ok", "problems", "safety": {"level", "findings"}}], "problems",
//    "provenance": {model_id, model_version, model_checksum, quantization, backend, tier,
//                   preset, prompt_schema, seed},
//    "stats": {finish, prompt_tokens, generated_tokens, context_truncated, prefill_ms,
//              total_ms, tokens_per_second}}
#ifndef CAIRN_CORE_ENGINE_CAPTION_JSON_H_
#define CAIRN_CORE_ENGINE_CAPTION_JSON_H_

#include <nlohmann/json.hpp>

#include "core/engine/caption_engine.h"

namespace cairn::engine {

nlohmann::json SafetyVerdictJson(const safety::Verdict& v);
nlohmann::json ProvenanceJson(const Provenance& p);
nlohmann::json CaptionResultJson(const CaptionResult& r);

}  // namespace cairn::engine

#endif  // CAIRN_CORE_ENGINE_CAPTION_JSON_H_
