// Prompts for small models: compact, structured, within a token budget.
//
// Text: the four-part caption prompt (Task / Context / Style / OutputFormat). Images: the
// anchors Subject / Style / Colors / Constraints. Rendered into the model's chat format (from
// its manifest). When the prompt is over budget the context is cut first (at a word, marked
// with "…"), then the style; the task and the output format are never cut. User text cannot
// forge chat markup: special-token syntax in it ("<|...|>") is defused before rendering.
//
//   CaptionPrompt p{"Write 3 Instagram captions", "photo: pier at sunset; tags: sea, sky",
//                   "warm, short, one emoji each", R"(JSON {"captions": [string]})"};
//   Result<RenderedPrompt> r = RenderCaptionPrompt(p, ChatFormat::kChatML, 256, count_tokens);
#ifndef CAIRN_CORE_PROMPT_PROMPT_H_
#define CAIRN_CORE_PROMPT_PROMPT_H_

#include <functional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace cairn::prompt {

inline constexpr char kPromptSchemaVersion[] = "cairn.prompt/1";  // recorded in provenance

enum class ChatFormat { kChatML, kLlama3, kNone };
Result<ChatFormat> ParseChatFormat(std::string_view name);  // "chatml" | "llama3" | "none"

struct CaptionPrompt {
  std::string task;
  std::string context;
  std::string style;
  std::string output_format;
};

struct ImagePrompt {
  std::string subject;
  std::string style;
  std::string colors;
  std::string constraints;
};

// Counts the tokens a text takes (the model's tokenizer; tests may use a simple counter).
using TokenCounter = std::function<int(std::string_view)>;

struct RenderedPrompt {
  std::string text;
  int tokens = 0;
  bool context_truncated = false;
  bool style_truncated = false;
};

inline constexpr char kDefaultSystem[] =
    "You write social media captions. Follow the task, use the context, match the style, and "
    "answer only in the output format.";

Result<RenderedPrompt> RenderCaptionPrompt(const CaptionPrompt& prompt, ChatFormat format,
                                           int max_tokens, const TokenCounter& count,
                                           std::string_view system = kDefaultSystem);

// Image prompts go to image models as plain text, with the same budget rules (subject and
// constraints are never cut; style, then colours, are).
Result<RenderedPrompt> RenderImagePrompt(const ImagePrompt& prompt, int max_tokens,
                                         const TokenCounter& count);

// Replaces chat-markup syntax in user text so it stays text.
std::string Defuse(std::string_view user_text);

}  // namespace cairn::prompt

#endif  // CAIRN_CORE_PROMPT_PROMPT_H_
