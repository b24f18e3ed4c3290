#include "core/tokenizer/tokenizer.h"

#include <exception>
#include <utility>

#include "core/tokenizer/json_util.h"
#include "core/tokenizer/pattern.h"
#include "core/tokenizer/tokenizer_impl.h"
#include "core/tokenizer/unicode.h"

namespace cairn {

using tokenizer::AddedToken;
using tokenizer::FieldError;
using tokenizer::GetBool;
using tokenizer::GetInt;
using tokenizer::GetString;
using tokenizer::JoinPath;
using tokenizer::Json;
using tokenizer::Member;
using tokenizer::RequireMember;

namespace tokenizer {

void AddedTokenTrie::Insert(const std::string& content, int token_index) {
  int node = 0;
  for (unsigned char b : content) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
    auto it = children_.find(key);
    if (it == children_.end()) {
      ends_.push_back(-1);
      it = children_.emplace(key, static_cast<int>(ends_.size()) - 1).first;
    }
    node = it->second;
  }
  if (node != 0) ends_[node] = token_index;
}

namespace {

bool WordCharBefore(std::string_view text, size_t pos) {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t cp;
  DecodeUtf8(text, start, &cp);
  return cp == '_' || InCategories(cp, kMaskLetter | kMaskNumber | kMaskMark);
}

bool WordCharAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  char32_t cp;
  DecodeUtf8(text, pos, &cp);
  return cp == '_' || InCategories(cp, kMaskLetter | kMaskNumber | kMaskMark);
}

}  // namespace

void AddedTokenTrie::Split(std::string_view text, const std::vector<AddedToken>& tokens,
                           std::vector<std::string>* pieces, std::vector<int>* token_of) const {
  size_t start = 0, i = 0;
  while (i < text.size()) {
    int node = 0, match = -1;
    size_t match_end = 0;
    for (size_t j = i; j < text.size(); ++j) {
      auto it =
          children_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[j]));
      if (it == children_.end()) break;
      node = it->second;
      if (ends_[node] >= 0) {
        match = ends_[node];
        match_end = j + 1;
      }
    }
    if (match >= 0 && tokens[match].single_word &&
        (WordCharBefore(text, i) || WordCharAt(text, match_end))) {
      match = -1;
    }
    if (match < 0) {
      ++i;
      continue;
    }
    if (i > start) {
      pieces->emplace_back(text.substr(start, i - start));
      token_of->push_back(-1);
    }
    pieces->emplace_back(text.substr(i, match_end - i));
    token_of->push_back(match);
    i = start = match_end;
  }
  if (start < text.size()) {
    pieces->emplace_back(text.substr(start));
    token_of->push_back(-1);
  }
}

namespace {

// lstrip / rstrip: trim the white space of the neighbours of added-token pieces.
void ApplyStrips(const std::vector<AddedToken>& added, const std::vector<int>& token_of,
                 std::vector<std::string>* pieces) {
  for (size_t i = 0; i < pieces->size(); ++i) {
    if (token_of[i] < 0) continue;
    const AddedToken& t = added[token_of[i]];
    if (t.lstrip && i > 0) (*pieces)[i - 1] = std::string(TrimEndJs((*pieces)[i - 1]));
    if (t.rstrip && i + 1 < pieces->size()) {
      (*pieces)[i + 1] = std::string(TrimStartJs((*pieces)[i + 1]));
    }
  }
}

Result<std::vector<PostStep>> ParsePostProcessor(const Json& config, std::string_view path) {
  CAIRN_RETURN_IF_ERROR(RequireObject(config, path));
  CAIRN_ASSIGN_OR_RETURN(std::string type, GetString(config, "type", path));
  std::vector<PostStep> steps;
  if (type == "ByteLevel") return steps;
  if (type == "TemplateProcessing") {
    CAIRN_ASSIGN_OR_RETURN(const Json* single, RequireMember(config, "single", path));
    const std::string single_path = JoinPath(path, "single");
    if (!single->is_array()) return FieldError(single_path, "must be an array");
    PostStep step;
    bool seen_a = false;
    for (size_t i = 0; i < single->size(); ++i) {
      const Json& item = (*single)[i];
      const std::string item_path = single_path + "[" + std::to_string(i) + "]";
      if (const Json* special = Member(item, "SpecialToken")) {
        CAIRN_ASSIGN_OR_RETURN(std::string id,
                               GetString(*special, "id", item_path + ".SpecialToken"));
        (seen_a ? step.after : step.before).push_back(id);
      } else if (const Json* seq = Member(item, "Sequence")) {
        CAIRN_ASSIGN_OR_RETURN(std::string id, GetString(*seq, "id", item_path + ".Sequence"));
        if (id != "A") return FieldError(item_path, "must use sequence \"A\" in a single template");
        seen_a = true;
      } else {
        return FieldError(item_path, "must be a {\"SpecialToken\"} or {\"Sequence\"} item");
      }
    }
    steps.push_back(std::move(step));
    return steps;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    PostStep step;
    for (const char* key : {"cls", "sep"}) {
      CAIRN_ASSIGN_OR_RETURN(const Json* pair, RequireMember(config, key, path));
      if (!pair->is_array() || pair->size() != 2 || !(*pair)[0].is_string()) {
        return FieldError(JoinPath(path, key), "must be a [token, id] pair");
      }
      (std::string(key) == "cls" ? step.before : step.after)
          .push_back((*pair)[0].get<std::string>());
    }
    steps.push_back(std::move(step));
    return steps;
  }
  if (type == "Sequence") {
    CAIRN_ASSIGN_OR_RETURN(const Json* list, RequireMember(config, "processors", path));
    if (!list->is_array()) return FieldError(JoinPath(path, "processors"), "must be an array");
    for (size_t i = 0; i < list->size(); ++i) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<PostStep> inner,
                             ParsePostProcessor((*list)[i], JoinPath(path, "processors") + "[" +
                                                                std::to_string(i) + "]"));
      for (PostStep& s : inner) steps.push_back(std::move(s));
    }
    return steps;
  }
  return FieldError(JoinPath(path, "type"), "is an unknown post-processor type \"" + type + "\"");
}

Status ReadAddedTokens(const Json& root, Tokenizer::Impl* impl) {
  const Json* list = Member(root, "added_tokens");
  if (list == nullptr) return Status::Ok();
  if (!list->is_array()) return FieldError("added_tokens", "must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& t = (*list)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    CAIRN_RETURN_IF_ERROR(RequireObject(t, path));
    AddedToken token;
    CAIRN_ASSIGN_OR_RETURN(token.content, GetString(t, "content", path));
    CAIRN_RETURN_IF_ERROR(ValidateUtf8(token.content).WithContext("tokenizer.json: " + path));
    CAIRN_ASSIGN_OR_RETURN(int64_t id, GetInt(t, "id", path, -1));
    if (id < 0 || id >= (1 << 30))
      return FieldError(JoinPath(path, "id"), "must be a non-negative integer");
    token.id = static_cast<int32_t>(id);
    CAIRN_ASSIGN_OR_RETURN(token.single_word, GetBool(t, "single_word", path, false));
    CAIRN_ASSIGN_OR_RETURN(token.lstrip, GetBool(t, "lstrip", path, false));
    CAIRN_ASSIGN_OR_RETURN(token.rstrip, GetBool(t, "rstrip", path, false));
    CAIRN_ASSIGN_OR_RETURN(token.special, GetBool(t, "special", path, false));
    CAIRN_ASSIGN_OR_RETURN(token.normalized, GetBool(t, "normalized", path, !token.special));
    impl->added.push_back(std::move(token));
  }
  tokenizer::Vocab& vocab = impl->vocab;
  for (size_t k = 0; k < impl->added.size(); ++k) {
    const AddedToken& token = impl->added[k];
    const int index = static_cast<int>(k);
    vocab.token_to_id[token.content] = token.id;
    if (static_cast<size_t>(token.id) >= vocab.id_to_token.size()) {
      vocab.id_to_token.resize(static_cast<size_t>(token.id) + 1);
    }
    vocab.id_to_token[token.id] = token.content;
    impl->added_by_text[token.content] = index;
    impl->added_contents.insert(token.content);
    if (token.special) impl->special_contents.insert(token.content);
    if (token.normalized && impl->normalizer) {
      const std::string normalized = impl->normalizer->Normalize(token.content);
      impl->added_by_text[normalized] = index;
      impl->normalized_trie.Insert(normalized, index);
    } else {
      impl->unnormalized_trie.Insert(token.content, index);
    }
  }
  return Status::Ok();
}

void FindSpecialIds(Tokenizer::Impl* impl) {
  SpecialTokenIds& ids = impl->special_ids;
  auto id_of = [&](const std::string& token) -> std::optional<int32_t> {
    const int32_t* id = impl->vocab.Find(token);
    return id ? std::optional<int32_t>(*id) : std::nullopt;
  };
  if (impl->vocab.unk_token) ids.unk = id_of(*impl->vocab.unk_token);
  if (!impl->post.empty() && !impl->post.front().before.empty()) {
    ids.bos = id_of(impl->post.front().before.front());
  }
  if (!impl->post.empty() && !impl->post.front().after.empty()) {
    ids.eos = id_of(impl->post.front().after.back());
  }
  auto conventional = [&](std::optional<int32_t>* slot, std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (slot->has_value()) return;
      if (impl->special_contents.count(name) != 0) *slot = id_of(name);
    }
  };
  conventional(&ids.bos, {"<|begin_of_text|>", "<bos>", "<s>", "[CLS]"});
  conventional(&ids.eos, {"<|end_of_text|>", "<eos>", "</s>", "<|endoftext|>", "[SEP]"});
  conventional(&ids.pad, {"<pad>", "[PAD]", "<|pad|>"});
  conventional(&ids.unk, {"<unk>", "[UNK]"});
}

Result<std::shared_ptr<Tokenizer::Impl>> Load(std::string_view text) {
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("tokenizer.json is not valid JSON");
  if (!root.is_object()) return InvalidArgument("tokenizer.json must be a JSON object");
  auto impl = std::make_shared<Tokenizer::Impl>();
  const Json* model = Member(root, "model");
  if (model == nullptr) return FieldError("model", "is missing");
  if (const Json* n = Member(root, "normalizer")) {
    CAIRN_ASSIGN_OR_RETURN(impl->normalizer, MakeNormalizer(*n, "normalizer"));
  }
  if (const Json* p = Member(root, "pre_tokenizer")) {
    CAIRN_ASSIGN_OR_RETURN(impl->pre_tokenizer, MakePreTokenizer(*p, "pre_tokenizer"));
  }
  if (const Json* p = Member(root, "post_processor")) {
    CAIRN_ASSIGN_OR_RETURN(impl->post, ParsePostProcessor(*p, "post_processor"));
  }
  if (const Json* d = Member(root, "decoder")) {
    CAIRN_ASSIGN_OR_RETURN(impl->decoder, MakeDecoder(*d, "decoder"));
  }
  CAIRN_ASSIGN_OR_RETURN(impl->model, MakeModel(*model, &impl->vocab));
  CAIRN_RETURN_IF_ERROR(ReadAddedTokens(root, impl.get()));
  impl->is_special.assign(impl->vocab.id_to_token.size(), false);
  for (const AddedToken& t : impl->added) {
    if (t.special) impl->is_special[t.id] = true;
  }
  FindSpecialIds(impl.get());
  const size_t n = impl->vocab.id_to_token.size();
  impl->token_bytes.resize(n);
  for (size_t id = 0; id < n; ++id) {
    if (!impl->vocab.id_to_token[id].empty()) {
      impl->token_bytes[id] = impl->BytesInContext(static_cast<int32_t>(id), /*first=*/false);
    }
  }
  return impl;
}

}  // namespace
}  // namespace tokenizer

Result<const std::string*> Tokenizer::Impl::TokenFor(int32_t id, size_t position) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab.id_to_token.size() ||
      vocab.id_to_token[id].empty()) {
    return InvalidArgument("token id " + std::to_string(id) + " at position " +
                           std::to_string(position) + " is not in the vocabulary (size " +
                           std::to_string(vocab.id_to_token.size()) + ")");
  }
  return &vocab.id_to_token[id];
}

std::string Tokenizer::Impl::BytesInContext(int32_t id, bool first) const {
  std::vector<std::string> tokens{vocab.id_to_token[id]};
  if (decoder) {
    tokenizer::DecodeContext ctx;
    ctx.mode = first ? tokenizer::DecodeContext::kBytesFirst : tokenizer::DecodeContext::kBytesMid;
    ctx.added_tokens = &added_contents;
    decoder->DecodeChain(&tokens, ctx);
  } else if (!first) {
    return " " + tokens[0];  // no decoder: tokens are joined with spaces
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

Result<Tokenizer> Tokenizer::FromJson(std::string_view json) {
  try {
    CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Impl> impl, tokenizer::Load(json));
    return Tokenizer(std::move(impl));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("tokenizer.json could not be read: ") + e.what());
  }
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view utf8,
                                               bool add_special_tokens) const {
  CAIRN_RETURN_IF_ERROR(tokenizer::ValidateUtf8(utf8).WithContext("Encode"));
  const Impl& impl = *impl_;
  std::vector<std::string> tokens;
  std::vector<std::string> sections;
  std::vector<int> section_token;
  impl.unnormalized_trie.Split(utf8, impl.added, &sections, &section_token);
  tokenizer::ApplyStrips(impl.added, section_token, &sections);
  for (size_t s = 0; s < sections.size(); ++s) {
    std::string text = std::move(sections[s]);
    if (text.empty()) continue;
    if (impl.added_by_text.count(text) != 0) {
      tokens.push_back(std::move(text));
      continue;
    }
    if (impl.normalizer) text = impl.normalizer->Normalize(text);
    if (text.empty()) continue;
    std::vector<std::string> subs;
    std::vector<int> sub_token;
    impl.normalized_trie.Split(text, impl.added, &subs, &sub_token);
    tokenizer::ApplyStrips(impl.added, sub_token, &subs);
    for (std::string& sub : subs) {
      if (sub.empty()) continue;
      if (impl.added_by_text.count(sub) != 0) {
        tokens.push_back(std::move(sub));
        continue;
      }
      std::vector<std::string> pieces;
      if (impl.pre_tokenizer) {
        impl.pre_tokenizer->Split(sub, static_cast<int>(s), &pieces);
      } else {
        pieces.push_back(std::move(sub));
      }
      impl.model->Encode(pieces, impl.vocab, &tokens);
    }
  }
  if (add_special_tokens) {
    for (const tokenizer::PostStep& step : impl.post) {
      std::vector<std::string> out = step.before;
      for (std::string& t : tokens) out.push_back(std::move(t));
      out.insert(out.end(), step.after.begin(), step.after.end());
      tokens = std::move(out);
    }
  }
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  const int32_t* unk = impl.vocab.unk_token ? impl.vocab.Find(*impl.vocab.unk_token) : nullptr;
  for (const std::string& t : tokens) {
    if (auto it = impl.added_by_text.find(t); it != impl.added_by_text.end()) {
      ids.push_back(impl.added[it->second].id);
    } else if (const int32_t* id = impl.vocab.Find(t)) {
      ids.push_back(*id);
    } else if (unk != nullptr) {
      ids.push_back(*unk);
    } else {
      return InvalidArgument("tokenizer.json: token \"" + t +
                             "\" (from the post-processor) is not in the vocabulary");
    }
  }
  return ids;
}

Result<std::string> Tokenizer::Decode(std::span<const int32_t> ids,
                                      bool skip_special_tokens) const {
  const Impl& impl = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(const std::string* token, impl.TokenFor(ids[i], i));
    if (skip_special_tokens && impl.special_contents.count(*token) != 0) continue;
    tokens.push_back(*token);
  }
  std::string text;
  if (impl.decoder) {
    tokenizer::DecodeContext ctx;
    ctx.added_tokens = &impl.added_contents;
    impl.decoder->DecodeChain(&tokens, ctx);
    for (const std::string& t : tokens) text += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
  }
  if (std::string_view suffix = impl.model->end_of_word_suffix(); !suffix.empty() && impl.decoder) {
    text = tokenizer::ReplaceLiteral(text, suffix, " ");
    if (skip_special_tokens) {
      text = std::string(tokenizer::TrimEndJs(tokenizer::TrimStartJs(text)));
    }
  }
  return text;
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(impl_->vocab.id_to_token.size());
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->vocab.id_to_token.size() ||
      impl_->vocab.id_to_token[id].empty()) {
    return std::nullopt;
  }
  return impl_->vocab.id_to_token[id];
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  const int32_t* id = impl_->vocab.Find(token);
  return id ? std::optional<int32_t>(*id) : std::nullopt;
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->is_special.size() && impl_->is_special[id];
}

const SpecialTokenIds& Tokenizer::special_ids() const { return impl_->special_ids; }

const std::vector<std::string>& Tokenizer::TokenBytes() const { return impl_->token_bytes; }

// --- StreamingDetokenizer ---------------------------------------------------------------------

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

Result<std::string> StreamingDetokenizer::Feed(int32_t id) {
  const Tokenizer::Impl& impl = *tokenizer_.impl_;
  CAIRN_ASSIGN_OR_RETURN(const std::string* token, impl.TokenFor(id, 0));
  if (skip_special_ && impl.special_contents.count(*token) != 0) return std::string();
  pending_ += first_ ? impl.BytesInContext(id, true) : impl.token_bytes[id];
  first_ = false;
  const size_t complete = tokenizer::CompleteUtf8Prefix(pending_);
  std::string out = tokenizer::Utf8Lossy(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamingDetokenizer::Finish() {
  std::string out = tokenizer::Utf8Lossy(pending_);
  pending_.clear();
  first_ = true;
  return out;
}

}  // namespace cairn
