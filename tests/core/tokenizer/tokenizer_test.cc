// Unit tests for the tokenizer pipeline on small hand-written tokenizer.json files. (Real model
// files are checked against the reference implementation in conformance_test.cc.)
#include "core/tokenizer/tokenizer.h"

#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/normalizer.h"

namespace cairn {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

Tokenizer Load(const json& j) {
  Result<Tokenizer> tok = Tokenizer::FromJson(j.dump());
  INFO(tok.status().ToString());
  REQUIRE(tok.ok());
  return *tok;
}

// A SentencePiece-style BPE: metaspace via Replace, byte fallback, merges, <s> added by the
// template (the Llama 2 / Gemma layout).
json SentencePieceBpe() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2},     {"\u2581", 3},    {"h", 4},
                {"i", 5},     {"hi", 6},  {"\u2581hi", 7}, {"t", 8},         {"e", 9},
                {"r", 10},    {"er", 11}, {"\u2581t", 12}, {"\u2581ter", 13}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 100 + b;
  }
  return {{"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", "\u2581"}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}}},
          {"pre_tokenizer", nullptr},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single",
             {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
              {{"type", "ByteFallback"}},
              {{"type", "Fuse"}},
              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
          {"added_tokens",
           {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
            {{"id", 1}, {"content", "<s>"}, {"special", true}},
            {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"byte_fallback", true},
            {"fuse_unk", true},
            {"vocab", vocab},
            {"merges", {"h i", "\u2581 hi", "e r", "\u2581 t", "\u2581t er"}}}}};
}

TEST_CASE("BPE applies merges by rank and falls back to bytes") {
  Tokenizer tok = Load(SentencePieceBpe());
  CHECK(*tok.Encode("hi", false) == Ids{7});    // ▁ h i -> ▁ hi -> ▁hi
  CHECK(*tok.Encode("hi", true) == Ids{1, 7});  // <s> from the template
  CHECK(*tok.Encode("hi ter", false) == Ids{7, 13});
  // "ß" is not in the vocab: its UTF-8 bytes C3 9F become <0xC3> <0x9F>.
  CHECK(*tok.Encode("hiß", false) == Ids{7, 100 + 0xC3, 100 + 0x9F});
  CHECK(*tok.Decode(Ids{1, 7, 100 + 0xC3, 100 + 0x9F}, true) == "hiß");
  CHECK(*tok.Decode(Ids{1, 7, 13}, false) == "<s> hi ter");
  CHECK(*tok.Decode(Ids{7, 13}, false) == "hi ter");  // Strip removes one leading space
  CHECK(tok.special_ids().bos == 1);
  CHECK(tok.special_ids().unk == 0);
  CHECK(tok.special_ids().eos == 2);
  CHECK(tok.IsSpecial(1));
  CHECK_FALSE(tok.IsSpecial(7));
  CHECK(tok.vocab_size() == 356);
  CHECK(tok.TokenToId("\u2581hi") == 7);
  CHECK(tok.IdToToken(13) == "\u2581ter");
  CHECK_FALSE(tok.IdToToken(50).has_value());
  CHECK(tok.TokenBytes()[13] == " ter");
  CHECK(tok.TokenBytes()[100 + 0xC3] == "\xC3");
}

TEST_CASE("BPE ties merge leftmost first") {
  json j = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"aa", 1}}}, {"merges", {"a a"}}}}};
  Tokenizer tok = Load(j);
  CHECK(*tok.Encode("aaa", false) == Ids{1, 0});
  CHECK(*tok.Encode("aaaa", false) == Ids{1, 1});
}

TEST_CASE("BPE without byte fallback or unk drops unknown symbols, like the reference") {
  json j = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}}}};
  CHECK(*Load(j).Encode("aXa", false) == Ids{0, 0});
}

// A BERT-style WordPiece tokenizer.json written by hand.
json WordPiece() {
  return {{"normalizer",
           {{"type", "BertNormalizer"},
            {"clean_text", true},
            {"handle_chinese_chars", true},
            {"strip_accents", nullptr},
            {"lowercase", true}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"post_processor",
           {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
          {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
          {"added_tokens",
           {{{"id", 0}, {"content", "[PAD]"}, {"special", true}},
            {{"id", 1}, {"content", "[UNK]"}, {"special", true}},
            {{"id", 2}, {"content", "[CLS]"}, {"special", true}},
            {{"id", 3}, {"content", "[SEP]"}, {"special", true}}}},
          {"model",
           {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"continuing_subword_prefix", "##"},
            {"max_input_chars_per_word", 100},
            {"vocab",
             {{"[PAD]", 0},
              {"[UNK]", 1},
              {"[CLS]", 2},
              {"[SEP]", 3},
              {"un", 4},
              {"##aff", 5},
              {"##able", 6},
              {"cafe", 7},
              {"!", 8},
              {"中", 9},
              {"the", 10}}}}}};
}

TEST_CASE("WordPiece: lowercase, accents stripped, greedy longest sub-words") {
  Tokenizer tok = Load(WordPiece());
  CHECK(*tok.Encode("Unaffable CAFÉ!", true) == Ids{2, 4, 5, 6, 7, 8, 3});
  CHECK(*tok.Encode("the xyz中", false) == Ids{10, 1, 9});
  CHECK(*tok.Decode(Ids{2, 4, 5, 6, 7, 8, 3}, true) == "unaffable cafe!");
  CHECK(tok.special_ids().pad == 0);
  CHECK(tok.special_ids().bos == 2);
  CHECK(tok.special_ids().eos == 3);
}

// Byte-level BPE whose vocab is just the 256 byte symbols, with added tokens.
json ByteLevelBytes(json added) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    static int n = 0;
    if (b == 0) n = 0;
    const char32_t cp = printable ? b : 256 + n++;
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    vocab[s] = b;
  }
  return {{"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"added_tokens", added},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

TEST_CASE("added tokens are matched before the model, longest first") {
  Tokenizer tok = Load(ByteLevelBytes(
      {{{"id", 300}, {"content", "<|end|>"}, {"special", true}},
       {{"id", 301}, {"content", "<|end|>x"}, {"special", false}},
       {{"id", 302}, {"content", "[L]"}, {"special", false}, {"lstrip", true}},
       {{"id", 303}, {"content", "[R]"}, {"special", false}, {"rstrip", true}},
       {{"id", 304}, {"content", "cat"}, {"special", false}, {"single_word", true}}}));
  CHECK(*tok.Encode("a<|end|>b", false) == Ids{'a', 300, 'b'});
  CHECK(*tok.Encode("<|end|>x", false) == Ids{301});
  CHECK(*tok.Encode("a  [L]b", false) == Ids{'a', 302, 'b'});
  CHECK(*tok.Encode("a[R]  b", false) == Ids{'a', 303, 'b'});
  CHECK(*tok.Encode("cat", false) == Ids{304});
  CHECK(*tok.Encode("concat", false) == Ids{'c', 'o', 'n', 'c', 'a', 't'});
  CHECK(*tok.Decode(Ids{'a', 300, 'b'}, false) == "a<|end|>b");
  CHECK(*tok.Decode(Ids{'a', 300, 'b'}, true) == "ab");
  CHECK(tok.special_ids().eos == std::nullopt);
}

TEST_CASE("Encode rejects invalid UTF-8 naming the byte offset; Decode rejects bad ids") {
  Tokenizer tok = Load(ByteLevelBytes(json::array()));
  Result<Ids> r = tok.Encode("ok\xc3(", false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("byte offset 2") != std::string::npos);
  Result<std::string> d = tok.Decode(Ids{1, 999}, false);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("999") != std::string::npos);
  CHECK(*tok.Decode(Ids{0xF0, 0x9F}, false) == "\ufffd");  // half an emoji decodes lossily
  CHECK(*tok.Encode("", true) == Ids{});
}

TEST_CASE("normalizers") {
  auto make = [](const json& j) {
    Result<std::unique_ptr<tokenizer::Normalizer>> n = tokenizer::MakeNormalizer(j, "normalizer");
    INFO(n.status().ToString());
    REQUIRE(n.ok());
    return std::move(*n);
  };
  CHECK(make({{"type", "NFC"}})->Normalize("e\u0301") == "\u00e9");
  CHECK(make({{"type", "NFD"}})->Normalize("\u00e9") == "e\u0301");
  CHECK(make({{"type", "Lowercase"}})->Normalize("ÀB") == "àb");
  CHECK(make({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}})
            ->Normalize(" \t x \u3000") == "x");
  CHECK(make({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}})->Normalize(" x ") ==
        " x");
  CHECK(make({{"type", "Prepend"}, {"prepend", "\u2581"}})->Normalize("a") == "\u2581a");
  CHECK(make({{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}})
            ->Normalize("a   b c") == "a b c");
  CHECK(make({{"type", "StripAccents"}})->Normalize("e\u0301") == "e");
  CHECK(make({{"type", "Sequence"},
              {"normalizers",
               {{{"type", "NFD"}}, {{"type", "StripAccents"}}, {{"type", "Lowercase"}}}}})
            ->Normalize("Éa") == "ea");
  Result<std::unique_ptr<tokenizer::Normalizer>> nfkc =
      tokenizer::MakeNormalizer({{"type", "NFKC"}}, "normalizer");
  CHECK(nfkc.status().code() == StatusCode::kUnsupported);
}

TEST_CASE("malformed tokenizer.json gives errors naming the field") {
  auto error_of = [](const std::string& text) {
    Result<Tokenizer> tok = Tokenizer::FromJson(text);
    REQUIRE_FALSE(tok.ok());
    return tok.status().message();
  };
  CHECK(error_of("{not json").find("not valid JSON") != std::string::npos);
  CHECK(error_of("[]").find("object") != std::string::npos);
  CHECK(error_of("{}").find("model is missing") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "Magic", "vocab": {}}})").find("model.type") !=
        std::string::npos);
  CHECK(error_of(R"({"model": {"type": "Unigram", "vocab": []}})").find("Unigram") !=
        std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})")
            .find("model.vocab[\"a\"]") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": [1], "merges": []}})").find("model.vocab") !=
        std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})")
            .find("model.merges is missing") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a", "ab"]}})")
            .find("model.merges[1]") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", 1]]}})")
            .find("model.merges[0]") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": {}}})")
            .find("model.merges must be an array") != std::string::npos);
  CHECK(
      error_of(
          R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": "yes"}})")
          .find("model.byte_fallback must be a boolean") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})").find("unk_token") !=
        std::string::npos);
  const std::string ok_model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  CHECK(error_of("{" + ok_model + R"(, "normalizer": {"type": "Nope"}})").find("normalizer.type") !=
        std::string::npos);
  CHECK(error_of("{" + ok_model +
                 R"(, "normalizer": {"type": "Sequence", "normalizers": [{"type": 3}]}})")
            .find("normalizer.normalizers[0].type must be a string") != std::string::npos);
  CHECK(error_of("{" + ok_model +
                 R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}}})")
            .find("pre_tokenizer.pattern.Regex") != std::string::npos);
  CHECK(error_of("{" + ok_model + R"(, "pre_tokenizer": {"type": "Split", "pattern": {}}})")
            .find("pre_tokenizer.pattern") != std::string::npos);
  CHECK(error_of("{" + ok_model +
                 R"(, "decoder": {"type": "Sequence", "decoders": [{"type": "Bad"}]}})")
            .find("decoder.decoders[0].type") != std::string::npos);
  CHECK(error_of("{" + ok_model +
                 R"(, "post_processor": {"type": "TemplateProcessing", "single": 1}})")
            .find("post_processor.single") != std::string::npos);
  CHECK(error_of("{" + ok_model + R"(, "added_tokens": [{"id": -1, "content": "x"}]})")
            .find("added_tokens[0].id") != std::string::npos);
  CHECK(error_of("{" + ok_model + R"(, "added_tokens": [{"id": 1}]})")
            .find("added_tokens[0].content is missing") != std::string::npos);
}

TEST_CASE("damaged tokenizer.json never crashes: every truncation and byte flip") {
  const std::string good = SentencePieceBpe().dump();
  int errors = 0;
  for (size_t n = 0; n < good.size(); n += 7) {
    Result<Tokenizer> tok = Tokenizer::FromJson(good.substr(0, n));
    if (!tok.ok()) ++errors;
  }
  CHECK(errors > 0);
  const char kReplacements[] = {'"', '{', ']', '0', 'x', ' ', '\\', '\xff'};
  for (size_t i = 0; i < good.size(); i += 3) {
    std::string bad = good;
    bad[i] = kReplacements[i % sizeof(kReplacements)];
    Result<Tokenizer> tok = Tokenizer::FromJson(bad);
    if (tok.ok()) {
      // Whatever loaded must still encode and decode without crashing.
      Result<Ids> ids = tok->Encode("hi ter ß", true);
      if (ids.ok()) (void)tok->Decode(*ids, false);
    } else {
      CHECK(!tok.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace cairn
