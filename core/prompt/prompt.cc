#include "core/prompt/prompt.h"

#include <vector>

namespace cairn::prompt {
namespace {

constexpr char kEllipsis[] = "\xE2\x80\xA6";  // …

std::string Wrap(ChatFormat format, std::string_view system, std::string_view user) {
  std::string s;
  switch (format) {
    case ChatFormat::kChatML:
      s = "<|im_start|>system\n";
      s += system;
      s += "<|im_end|>\n<|im_start|>user\n";
      s += user;
      s += "<|im_end|>\n<|im_start|>assistant\n";
      return s;
    case ChatFormat::kLlama3:
      s = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n";
      s += system;
      s += "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n";
      s += user;
      s += "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
      return s;
    case ChatFormat::kNone:
      s = user;
      s += "\n";
      return s;
  }
  return s;
}

// The first `words` words of `text`, with "…" if any were cut.
std::string FirstWords(std::string_view text, size_t words) {
  std::vector<size_t> ends;  // where each word ends
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    while (i < text.size() && text[i] != ' ') ++i;
    ends.push_back(i);
  }
  if (words >= ends.size()) return std::string(text);
  if (words == 0) return "";
  return std::string(text.substr(0, ends[words - 1])) + kEllipsis;
}

size_t WordCount(std::string_view text) {
  size_t n = 0;
  bool in = false;
  for (char c : text) {
    if (c != ' ' && !in) ++n;
    in = c != ' ';
  }
  return n;
}

struct Field {
  const char* label;
  std::string value;
  int cut_order;  // 0: never cut; 1: cut first; 2: cut second
};

// Renders fields, cutting those with cut_order 1 then 2 word by word (binary search on the
// number of words kept) until the whole fits.
Result<RenderedPrompt> Fit(std::vector<Field> fields, int max_tokens, const TokenCounter& count,
                           const std::function<std::string(const std::string&)>& wrap) {
  auto render = [&](const std::vector<Field>& fs) {
    std::string body;
    for (const Field& f : fs) {
      if (f.value.empty()) continue;
      if (!body.empty()) body += "\n";
      body += f.label;
      body += ": ";
      body += f.value;
    }
    return wrap(body);
  };
  RenderedPrompt out;
  out.text = render(fields);
  out.tokens = count(out.text);
  bool truncated[3] = {false, false, false};
  for (int order = 1; order <= 2 && out.tokens > max_tokens; ++order) {
    for (Field& f : fields) {
      if (f.cut_order != order) continue;
      const std::string full = f.value;
      size_t lo = 0, hi = WordCount(full);  // the most words that fit lie in [lo, hi]
      while (lo < hi) {
        const size_t mid = (lo + hi + 1) / 2;
        f.value = FirstWords(full, mid);
        if (count(render(fields)) <= max_tokens) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      f.value = FirstWords(full, lo);
      truncated[order] = true;
      out.text = render(fields);
      out.tokens = count(out.text);
      if (out.tokens <= max_tokens) break;
    }
  }
  if (out.tokens > max_tokens) {
    for (Field& f : fields) {
      if (f.cut_order != 0) f.value.clear();
    }
    return ResourceExhausted("prompt: the parts that are never cut need " +
                             std::to_string(count(render(fields))) +
                             " tokens, more than the budget of " + std::to_string(max_tokens));
  }
  out.context_truncated = truncated[1];
  out.style_truncated = truncated[2];
  return out;
}

}  // namespace

Result<ChatFormat> ParseChatFormat(std::string_view name) {
  if (name == "chatml") return ChatFormat::kChatML;
  if (name == "llama3") return ChatFormat::kLlama3;
  if (name == "none") return ChatFormat::kNone;
  return InvalidArgument("unknown chat format '" + std::string(name) + "'");
}

std::string Defuse(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    // "<|" and "|>" open and close special tokens in ChatML and Llama 3.
    if ((text[i] == '<' || text[i] == '|') && i + 1 < text.size() &&
        text[i + 1] == (text[i] == '<' ? '|' : '>')) {
      out += ' ';
    }
  }
  for (auto& c : out) {
    if (c == '\r') c = ' ';
  }
  return out;
}

Result<RenderedPrompt> RenderCaptionPrompt(const CaptionPrompt& p, ChatFormat format,
                                           int max_tokens, const TokenCounter& count,
                                           std::string_view system) {
  if (p.task.empty()) return InvalidArgument("prompt: the task is empty");
  if (p.output_format.empty()) return InvalidArgument("prompt: the output format is empty");
  std::vector<Field> fields = {{"Task", Defuse(p.task), 0},
                               {"Context", Defuse(p.context), 1},
                               {"Style", Defuse(p.style), 2},
                               {"OutputFormat", Defuse(p.output_format), 0}};
  const std::string sys(system);
  return Fit(std::move(fields), max_tokens, count,
             [&](const std::string& body) { return Wrap(format, sys, body); });
}

Result<RenderedPrompt> RenderImagePrompt(const ImagePrompt& p, int max_tokens,
                                         const TokenCounter& count) {
  if (p.subject.empty()) return InvalidArgument("image prompt: the subject is empty");
  std::vector<Field> fields = {{"Subject", Defuse(p.subject), 0},
                               {"Style", Defuse(p.style), 1},
                               {"Colors", Defuse(p.colors), 2},
                               {"Constraints", Defuse(p.constraints), 0}};
  return Fit(std::move(fields), max_tokens, count, [](const std::string& body) { return body; });
}

}  // namespace cairn::prompt
