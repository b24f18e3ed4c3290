#include "cli/eval_captions.h"

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "core/runtime/pack_dir.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      w += static_cast<char>(std::tolower(c));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// The context's content words: longer than 3 letters, not the field labels.
std::set<std::string> ContextWords(std::string_view context) {
  static const std::set<std::string> kSkip = {"photo", "tags", "with", "from", "this", "that"};
  std::set<std::string> out;
  for (const std::string& w : Words(context)) {
    if (w.size() > 3 && !kSkip.count(w)) out.insert(w);
  }
  return out;
}

double Pct(double a, double b) { return b > 0 ? 100.0 * a / b : 0; }

}  // namespace

Status EvalCaptions(const engine::CaptionModel& model, const EvalOptions& o) {
  CAIRN_ASSIGN_OR_RETURN(Bytes raw, runtime::ReadHostFile(o.prompts_file, 16 << 20));
  json doc = json::parse(AsChars(raw), nullptr, false);
  if (!doc.is_object() || !doc["prompts"].is_array()) {
    return Status(StatusCode::kInvalidArgument, o.prompts_file + ": expected {\"prompts\": [...]}");
  }
  int prompts = 0, valid = 0, captions = 0, adherent = 0, with_context = 0, flagged = 0;
  int count_ok = 0, length_ok = 0, emoji_ok = 0, banned_ok = 0, hashtags_ok = 0;
  int no_emoji_asked = 0, no_emoji_kept = 0;
  double tps_sum = 0, ms_sum = 0;
  std::set<std::pair<std::string, std::string>> bigrams;
  size_t bigram_total = 0;
  for (const json& p : doc["prompts"]) {
    if (o.limit > 0 && prompts >= o.limit) break;
    engine::CaptionRequest req;
    try {
      req.prompt = {p.at("task").get<std::string>(), p.at("context").get<std::string>(),
                    p.at("style").get<std::string>(), ""};
      req.constraints.count = p.at("count").get<int>();
      req.constraints.max_chars = p.at("max_chars").get<int>();
      req.constraints.emoji_required = p.at("emoji").get<bool>();
      req.constraints.max_hashtags = p.at("max_hashtags").get<int>();
      req.constraints.banned = p.at("banned").get<std::vector<std::string>>();
    } catch (const json::exception& e) {
      return Status(StatusCode::kInvalidArgument,
                    o.prompts_file + ": prompt " + std::to_string(prompts) + ": " + e.what());
    }
    req.preset = o.preset;
    req.seed = o.seed + static_cast<uint64_t>(prompts);
    CAIRN_ASSIGN_OR_RETURN(engine::CaptionResult r, engine::GenerateCaptions(model, req));
    ++prompts;
    tps_sum += r.tokens_per_second;
    ms_sum += r.total_ms;
    const bool set_ok = r.problems.empty() &&
                        static_cast<int>(r.captions.size()) == req.constraints.count;
    valid += set_ok;
    count_ok += set_ok;
    const std::set<std::string> ctx = ContextWords(req.prompt.context);
    const bool no_emoji = p.value("no_emoji", false);
    for (const engine::CheckedCaption& c : r.captions) {
      ++captions;
      adherent += c.problems.empty();
      auto has = [&](const char* what) {
        for (const std::string& pr : c.problems) {
          if (pr.find(what) != std::string::npos) return true;
        }
        return false;
      };
      length_ok += !has("characters");
      emoji_ok += !has("emoji");
      banned_ok += !has("banned") && !has("uses");
      hashtags_ok += !has("hashtag");
      if (no_emoji) {
        ++no_emoji_asked;
        no_emoji_kept += !caption::ContainsEmoji(c.text);
      }
      flagged += !c.safety.clean();
      const std::vector<std::string> words = Words(c.text);
      bool uses = false;
      for (const std::string& w : words) uses = uses || ctx.count(w) > 0;
      with_context += uses;
      for (size_t i = 1; i < words.size(); ++i) {
        bigrams.insert({words[i - 1], words[i]});
        ++bigram_total;
      }
    }
    if (prompts <= o.show) {
      std::fprintf(stderr, "\n[%d] Task: %s\n    Context: %s\n    Style: %s\n    -> %s\n", prompts,
                   req.prompt.task.c_str(), req.prompt.context.c_str(), req.prompt.style.c_str(),
                   r.raw_output.c_str());
    }
  }
  const json out = {
      {"prompts", prompts},
      {"captions", captions},
      {"json_valid_pct", Pct(valid, prompts)},
      {"constraint_adherence_pct", Pct(adherent, captions)},
      {"count_ok_pct", Pct(count_ok, prompts)},
      {"length_ok_pct", Pct(length_ok, captions)},
      {"emoji_ok_pct", Pct(emoji_ok, captions)},
      {"no_emoji_kept_pct", Pct(no_emoji_kept, no_emoji_asked)},
      {"banned_ok_pct", Pct(banned_ok, captions)},
      {"hashtags_ok_pct", Pct(hashtags_ok, captions)},
      {"context_word_use_pct", Pct(with_context, captions)},
      {"distinct_2", bigram_total ? static_cast<double>(bigrams.size()) / bigram_total : 0.0},
      {"safety_flag_pct", Pct(flagged, captions)},
      {"tokens_per_second", prompts ? tps_sum / prompts : 0.0},
      {"ms_per_prompt", prompts ? ms_sum / prompts : 0.0},
      {"model", model.info().manifest.id + " " + model.info().manifest.version + " " +
                    model.info().variant},
      {"preset", o.preset}};
  std::fprintf(stderr, "\n%-28s %10s\n", "metric", "value");
  for (const char* k : {"json_valid_pct", "constraint_adherence_pct", "count_ok_pct",
                        "length_ok_pct", "emoji_ok_pct", "no_emoji_kept_pct", "banned_ok_pct",
                        "hashtags_ok_pct", "context_word_use_pct", "distinct_2",
                        "safety_flag_pct", "tokens_per_second", "ms_per_prompt"}) {
    std::fprintf(stderr, "%-28s %10.2f\n", k, out[k].get<double>());
  }
  std::printf("%s\n", out.dump().c_str());
  return Status::Ok();
}

}  // namespace cairn::cli
