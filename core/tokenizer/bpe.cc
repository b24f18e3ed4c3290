// Byte-pair encoding as the reference implements it: a piece starts as its code points and the
// lowest-ranked adjacent pair is merged first (ties: leftmost), whether or not the parts are in
// the vocab; the final symbols then map to the vocab, to <0xNN> byte tokens (byte_fallback) or
// to the unk token. Also MakeModel and the vocab reader.
#include <cstdio>
#include <queue>
#include <utility>

#include "core/tokenizer/model.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

class BpeModel : public Model {
 public:
  struct MergeResult {
    int32_t rank;
    int32_t symbol;
  };

  BpeModel(const Vocab& vocab, bool byte_fallback, bool fuse_unk, bool ignore_merges,
           std::string end_of_word_suffix, std::string continuing_subword_suffix)
      : vocab_size_(static_cast<int32_t>(vocab.id_to_token.size())),
        byte_fallback_(byte_fallback),
        fuse_unk_(fuse_unk),
        ignore_merges_(ignore_merges),
        suffix_(std::move(end_of_word_suffix)),
        continuing_suffix_(std::move(continuing_subword_suffix)) {
    for (const auto& [token, id] : vocab.token_to_id) symbols_.emplace(token, id);
  }

  // Symbol ids are vocab ids for vocab strings, and vocab_size_ + n for other merge strings.
  int32_t Intern(const std::string& s) {
    auto [it, inserted] = symbols_.emplace(s, vocab_size_ + static_cast<int32_t>(extra_));
    if (inserted) ++extra_;
    return it->second;
  }

  void AddMerge(const std::string& a, const std::string& b, int32_t rank) {
    const int32_t sa = Intern(a), sb = Intern(b), merged = Intern(a + b);
    merges_[Key(sa, sb)] = {rank, merged};
  }

  void Encode(const std::vector<std::string>& pieces, const Vocab& vocab,
              std::vector<std::string>* tokens) const override {
    const size_t first = tokens->size();
    for (const std::string& piece : pieces) {
      if (ignore_merges_ && vocab.Find(piece) != nullptr) {
        tokens->push_back(piece);
        continue;
      }
      for (std::string& t : Bpe(piece)) {
        if (vocab.Find(t) != nullptr) {
          tokens->push_back(std::move(t));
        } else if (byte_fallback_) {
          std::vector<std::string> bytes;
          bool all = true;
          for (unsigned char b : t) {
            char name[8];
            std::snprintf(name, sizeof(name), "<0x%02X>", b);
            all = all && vocab.Find(name) != nullptr;
            bytes.emplace_back(name);
          }
          if (all) {
            for (std::string& b : bytes) tokens->push_back(std::move(b));
          } else if (vocab.unk_token) {
            tokens->push_back(*vocab.unk_token);
          }
        } else if (vocab.unk_token) {
          tokens->push_back(*vocab.unk_token);
        }
      }
    }
    if (fuse_unk_ && vocab.unk_token) {
      // Runs of unk tokens collapse into one.
      const int32_t* unk = vocab.Find(*vocab.unk_token);
      std::vector<std::string> fused;
      for (size_t i = first; i < tokens->size(); ++i) {
        const int32_t* id = vocab.Find((*tokens)[i]);
        const bool is_unk = (id == nullptr) || (unk != nullptr && *id == *unk);
        if (is_unk && !fused.empty()) {
          const int32_t* prev = vocab.Find(fused.back());
          if (prev == nullptr || (unk != nullptr && *prev == *unk)) continue;
        }
        fused.push_back(std::move((*tokens)[i]));
      }
      tokens->resize(first);
      for (std::string& t : fused) tokens->push_back(std::move(t));
    }
  }

  std::string_view end_of_word_suffix() const override { return suffix_; }

 private:
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  int32_t Lookup(const std::string& s) const {
    auto it = symbols_.find(s);
    return it == symbols_.end() ? -1 : it->second;
  }

  std::vector<std::string> Bpe(const std::string& piece) const {
    struct Node {
      size_t begin, end;  // bytes of the piece
      int32_t symbol;     // -1: a string no merge knows
      int prev, next;
      uint32_t version;
      bool dead;
    };
    std::vector<Node> nodes;
    for (size_t i = 0; i < piece.size();) {
      char32_t cp;
      const size_t n = DecodeUtf8(piece, i, &cp);
      nodes.push_back({i, i + n, -1, static_cast<int>(nodes.size()) - 1,
                       static_cast<int>(nodes.size()) + 1, 0, false});
      i += n;
    }
    if (nodes.empty()) return {};
    nodes.back().next = -1;
    auto text = [&](const Node& node) {
      std::string s = piece.substr(node.begin, node.end - node.begin);
      if (!suffix_.empty() && node.end == piece.size()) s += suffix_;
      return s;
    };
    for (Node& node : nodes) node.symbol = Lookup(text(node));

    struct Candidate {
      int32_t rank;
      int pos;  // the left node's index: leftmost first among equal ranks
      uint32_t left_version, right_version;
      int right;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto consider = [&](int left) {
      if (left < 0) return;
      const int right = nodes[left].next;
      if (right < 0 || nodes[left].symbol < 0 || nodes[right].symbol < 0) return;
      auto it = merges_.find(Key(nodes[left].symbol, nodes[right].symbol));
      if (it == merges_.end()) return;
      queue.push({it->second.rank, left, nodes[left].version, nodes[right].version, right});
    };
    for (int i = 0; i + 1 < static_cast<int>(nodes.size()); ++i) consider(i);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Node& left = nodes[c.pos];
      if (left.dead || left.next != c.right || left.version != c.left_version) continue;
      Node& right = nodes[c.right];
      if (right.dead || right.version != c.right_version) continue;
      left.symbol = merges_.at(Key(left.symbol, right.symbol)).symbol;
      left.end = right.end;
      ++left.version;
      right.dead = true;
      left.next = right.next;
      if (right.next >= 0) nodes[right.next].prev = c.pos;
      consider(left.prev);
      consider(c.pos);
    }
    std::vector<std::string> out;
    for (int i = 0; i >= 0; i = nodes[i].next) out.push_back(text(nodes[i]));
    if (!continuing_suffix_.empty()) {
      for (size_t i = 0; i + 1 < out.size(); ++i) out[i] += continuing_suffix_;
    }
    return out;
  }

  int32_t vocab_size_;
  size_t extra_ = 0;
  bool byte_fallback_, fuse_unk_, ignore_merges_;
  std::string suffix_, continuing_suffix_;
  std::unordered_map<std::string, int32_t> symbols_;
  std::unordered_map<uint64_t, MergeResult> merges_;
};

Status ReadVocab(const Json& config, Vocab* vocab) {
  CAIRN_ASSIGN_OR_RETURN(const Json* v, RequireMember(config, "vocab", "model"));
  if (!v->is_object()) {
    if (v->is_array()) {
      return Unsupported(
          "tokenizer.json: model.vocab is a list (a Unigram model?); only BPE and "
          "WordPiece vocabularies (token -> id objects) are supported");
    }
    return FieldError("model.vocab",
                      "must be an object of token -> id (got " + JsonTypeName(*v) + ")");
  }
  int64_t max_id = -1;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (1 << 30)) {
      return FieldError("model.vocab[\"" + it.key() + "\"]", "must be a non-negative integer id");
    }
    CAIRN_RETURN_IF_ERROR(ValidateUtf8(it.key()).WithContext("tokenizer.json: model.vocab key"));
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  vocab->id_to_token.assign(static_cast<size_t>(max_id + 1), std::string());
  vocab->token_to_id.reserve(v->size());
  for (auto it = v->begin(); it != v->end(); ++it) {
    const int32_t id = static_cast<int32_t>(it.value().get<int64_t>());
    vocab->token_to_id[it.key()] = id;
    vocab->id_to_token[id] = it.key();
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> MakeBpeModel(const Json& config, const Vocab& vocab) {
  CAIRN_ASSIGN_OR_RETURN(bool byte_fallback, GetBool(config, "byte_fallback", "model", false));
  CAIRN_ASSIGN_OR_RETURN(bool fuse_unk, GetBool(config, "fuse_unk", "model", false));
  CAIRN_ASSIGN_OR_RETURN(bool ignore_merges, GetBool(config, "ignore_merges", "model", false));
  CAIRN_ASSIGN_OR_RETURN(std::string suffix, GetString(config, "end_of_word_suffix", "model", ""));
  CAIRN_ASSIGN_OR_RETURN(std::string continuing,
                         GetString(config, "continuing_subword_suffix", "model", ""));
  if (Member(config, "dropout") != nullptr && !config["dropout"].is_number()) {
    return FieldError("model.dropout", "must be a number or null");
  }
  auto model =
      std::make_unique<BpeModel>(vocab, byte_fallback, fuse_unk, ignore_merges, suffix, continuing);
  CAIRN_ASSIGN_OR_RETURN(const Json* merges, RequireMember(config, "merges", "model"));
  if (!merges->is_array()) {
    return FieldError("model.merges", "must be an array (got " + JsonTypeName(*merges) + ")");
  }
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& m = (*merges)[i];
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    std::string a, b;
    if (m.is_string()) {
      // "a b": the reference splits on spaces and keeps the first two parts.
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || space == 0) {
        return FieldError(path, "must be \"left right\" (two tokens separated by a space)");
      }
      a = s.substr(0, space);
      b = s.substr(space + 1, s.find(' ', space + 1) - space - 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      return FieldError(path, "must be a \"left right\" string or a [left, right] pair of strings");
    }
    if (a.empty() || b.empty()) return FieldError(path, "has an empty side");
    CAIRN_RETURN_IF_ERROR(ValidateUtf8(a + b).WithContext("tokenizer.json: " + path));
    model->AddMerge(a, b, static_cast<int32_t>(i));
  }
  return std::unique_ptr<Model>(std::move(model));
}

Result<std::unique_ptr<Model>> MakeModel(const Json& config, Vocab* vocab) {
  CAIRN_RETURN_IF_ERROR(RequireObject(config, "model"));
  std::string type;
  if (Member(config, "type") != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(type, GetString(config, "type", "model"));
  } else if (Member(config, "merges") != nullptr) {
    type = "BPE";
  } else {
    return FieldError("model.type", "is missing");
  }
  if (type != "BPE" && type != "WordPiece") {
    if (type == "Unigram" || type == "WordLevel") {
      return Unsupported("tokenizer.json: model.type \"" + type +
                         "\" is not supported (BPE and WordPiece are)");
    }
    return FieldError("model.type", "is an unknown model type \"" + type + "\"");
  }
  CAIRN_RETURN_IF_ERROR(ReadVocab(config, vocab));
  if (Member(config, "unk_token") != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(std::string unk, GetString(config, "unk_token", "model"));
    vocab->unk_token = unk;
  }
  if (type == "BPE") return MakeBpeModel(config, *vocab);
  return MakeWordPieceModel(config, *vocab);
}

}  // namespace cairn::tokenizer
