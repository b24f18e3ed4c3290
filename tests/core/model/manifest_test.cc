#include "core/model/manifest.h"

#include <catch_amalgamated.hpp>

#include <nlohmann/json.hpp>

#include "core/crypto/hash.h"
#include "core/crypto/sign.h"

namespace cairn::model {
namespace {

using nlohmann::json;

std::string Hash(std::string_view data) {
  return ToHex(crypto::Blake2bHash(AsBytes(data), 32).value());
}

json GoodManifest() {
  return json{
      {"schema", kManifestSchema},
      {"id", "cairn-caption-starter"},
      {"version", "1.0.0"},
      {"task", "caption-lm"},
      {"licence", {{"spdx", "Apache-2.0"}, {"commercial_use", true}, {"attribution", "Cairn"}}},
      {"files",
       {{{"name", "model.onnx"}, {"size", 11}, {"blake2b", Hash("onnx-bytes!")}},
        {{"name", "tokenizer.json"}, {"size", 2}, {"blake2b", Hash("{}")}}}},
      {"variants",
       {{{"name", "native-fp32"},
         {"runtime", "ort-native"},
         {"precision", "fp32"},
         {"execution_providers", {"cpu"}},
         {"file", "model.onnx"},
         {"inputs", {{{"name", "input_ids"}, {"type", "int64"}, {"shape", {"batch", "seq"}}}}},
         {"outputs", {{{"name", "logits"}, {"type", "float32"}, {"shape", {"batch", "seq", 512}}}}}}}},
      {"tokenizer", {{"file", "tokenizer.json"}, {"chat_format", "chatml"}}}};
}

struct Signed {
  std::string manifest;
  std::string sig;
};

Signed Sign(const json& m, const crypto::SigningKeyPair& kp) {
  Signed s{m.dump(2), ""};
  Bytes sig = crypto::Sign(kp.secret_key.view(), AsBytes(s.manifest)).value();
  s.sig = SignatureFileJson(TrustStore::KeyId(kp.public_key), sig);
  return s;
}

TEST_CASE("a signed manifest from a trusted key verifies and parses") {
  auto kp = crypto::GenerateSigningKeyPair();
  TrustStore trust;
  REQUIRE(trust.Add(kp.public_key).ok());
  Signed s = Sign(GoodManifest(), kp);
  Manifest m = VerifyManifest(AsBytes(s.manifest), AsBytes(s.sig), trust).value();
  CHECK(m.id == "cairn-caption-starter");
  CHECK(m.signer == TrustStore::KeyId(kp.public_key));
  CHECK(m.licence.commercial_use);
  REQUIRE(m.FindVariant("native-fp32") != nullptr);
  CHECK(m.FindVariant("native-fp32")->outputs.at(0).shape ==
        std::vector<std::string>{"batch", "seq", "512"});
  CHECK(m.FindFile("tokenizer.json")->size == 2);
  CHECK(m.chat_format == "chatml");
}

TEST_CASE("any modified byte of a signed manifest, or an unknown signer, is refused") {
  auto kp = crypto::GenerateSigningKeyPair();
  TrustStore trust;
  REQUIRE(trust.Add(kp.public_key).ok());
  Signed s = Sign(GoodManifest(), kp);
  for (size_t i = 0; i < s.manifest.size(); ++i) {
    std::string bad = s.manifest;
    bad[i] ^= 0x01;
    Status st = VerifyManifest(AsBytes(bad), AsBytes(s.sig), trust).status();
    REQUIRE(st.code() == StatusCode::kAuthFailed);
  }
  auto stranger = crypto::GenerateSigningKeyPair();
  Signed other = Sign(GoodManifest(), stranger);
  Status st = VerifyManifest(AsBytes(other.manifest), AsBytes(other.sig), trust).status();
  CHECK(st.code() == StatusCode::kAuthFailed);
  CHECK_THAT(st.message(), Catch::Matchers::ContainsSubstring("does not trust"));
  CHECK(VerifyManifest(AsBytes(s.manifest), AsBytes("not json"), trust).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("hostile manifests get an error naming the field, never a crash") {
  struct Case {
    const char* what;
    std::function<void(json&)> mutate;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"path traversal", [](json& m) { m["files"][0]["name"] = "../../etc/passwd"; }, "files[0].name"},
      {"absolute path", [](json& m) { m["files"][0]["name"] = "/etc/passwd"; }, "plain file name"},
      {"subdirectory", [](json& m) { m["files"][0]["name"] = "a/b.onnx"; }, "files[0].name"},
      {"dot dot", [](json& m) { m["files"][0]["name"] = ".."; }, "files[0].name"},
      {"huge size", [](json& m) { m["files"][0]["size"] = 1ull << 40; }, "larger than 4 GiB"},
      {"negative size", [](json& m) { m["files"][0]["size"] = -5; }, "files[0].size"},
      {"short hash", [](json& m) { m["files"][0]["blake2b"] = "abcd"; }, "files[0].blake2b"},
      {"upper-case hash",
       [](json& m) { m["files"][0]["blake2b"] = std::string(64, 'A'); }, "files[0].blake2b"},
      {"duplicate file", [](json& m) { m["files"][1]["name"] = "model.onnx"; }, "listed twice"},
      {"unknown variant file", [](json& m) { m["variants"][0]["file"] = "x.onnx"; }, "not in files"},
      {"bad runtime", [](json& m) { m["variants"][0]["runtime"] = "tensorflow"; }, "runtime"},
      {"bad provider", [](json& m) { m["variants"][0]["execution_providers"] = {"cuda"}; },
       "execution_providers"},
      {"wrong type", [](json& m) { m["id"] = 42; }, "id must be a string"},
      {"zero context", [](json& m) { m["context_length"] = 0; }, "context_length"},
      {"context as text", [](json& m) { m["context_length"] = "1024"; }, "context_length"},
      {"missing licence", [](json& m) { m.erase("licence"); }, "licence"},
      {"licence flag not bool", [](json& m) { m["licence"]["commercial_use"] = "yes"; },
       "commercial_use"},
      {"no files", [](json& m) { m["files"] = json::array(); }, "files"},
      {"unknown task", [](json& m) { m["task"] = "mining"; }, "task"},
      {"lm without tokenizer", [](json& m) { m.erase("tokenizer"); }, "tokenizer"},
      {"bad id", [](json& m) { m["id"] = "a b"; }, "id"},
      {"unknown preset", [](json& m) { m["presets"] = {{"turbo", json::object()}}; }, "presets"},
      {"preset temperature not a number",
       [](json& m) { m["presets"] = {{"low", {{"temperature", "hot"}}}}; },
       "presets.low.temperature must be a number"},
      {"text not an object", [](json& m) { m["text"] = "vocab.txt"; }, "text must be an object"},
      {"text vocab not in files",
       [](json& m) { m["text"] = {{"vocab", "vocab.txt"}, {"rule", "cairn-words/1"}}; },
       "text.vocab"},
      {"unknown text rule",
       [](json& m) { m["text"] = {{"vocab", "tokenizer.json"}, {"rule", "split-on-space"}}; },
       "text.rule"},
      {"preset top_p out of range",
       [](json& m) {
         m["presets"] = {{"final", {{"temperature", 0.8}, {"top_k", 5}, {"top_p", 7},
                                    {"repetition_penalty", 1.1}, {"max_new_tokens", 20}}}};
       },
       "presets.final.top_p must be between"},
  };
  for (const Case& c : cases) {
    json m = GoodManifest();
    c.mutate(m);
    Status s = ParseManifest(m.dump()).status();
    INFO(c.what << ": " << s.ToString());
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring(c.expect));
  }
  json future = GoodManifest();
  future["schema"] = "cairn.model-manifest/9";
  CHECK(ParseManifest(future.dump()).status().code() == StatusCode::kUnsupported);
  CHECK(ParseManifest(std::string(100, '[') + std::string(100, ']')).status().message() ==
        "manifest nests deeper than 16");
  CHECK(ParseManifest("{\"schema\": \"\xff\xfe\"}").status().code() ==
        StatusCode::kInvalidArgument);  // invalid UTF-8
  CHECK(ParseManifest(std::string(2 << 20, ' ')).status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseManifest("").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseManifest("[]").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("an embedding pack's word vocabulary is parsed") {
  json m = GoodManifest();
  m["task"] = "embedding";
  m.erase("tokenizer");
  m["files"][1]["name"] = "vocab.txt";
  m["text"] = {{"vocab", "vocab.txt"}, {"rule", "cairn-words/1"}, {"pad_id", 0}};
  Manifest parsed = ParseManifest(m.dump()).value();
  CHECK(parsed.text_vocab == "vocab.txt");
  CHECK(parsed.text_rule == "cairn-words/1");
  CHECK(parsed.tokenizer_file.empty());
}

TEST_CASE("presets come from the manifest, else sensible defaults by name") {
  json m = GoodManifest();
  m["presets"] = {{"preview", {{"temperature", 0.5}, {"top_k", 7}, {"top_p", 0.8},
                               {"repetition_penalty", 1.2}, {"max_new_tokens", 99}}}};
  Manifest parsed = ParseManifest(m.dump()).value();
  CHECK(parsed.PresetOrDefault("preview").top_k == 7);
  CHECK(parsed.PresetOrDefault("preview").max_new_tokens == 99);
  CHECK(parsed.PresetOrDefault("final").top_k == 7);  // falls back to the pack's preview
  Manifest bare = ParseManifest(GoodManifest().dump()).value();
  CHECK(bare.PresetOrDefault("low").temperature == 0);  // greedy
  CHECK(bare.PresetOrDefault("final").max_new_tokens == 256);
}

TEST_CASE("a non-commercial model is refused in a commercial workspace, with the reason") {
  json j = GoodManifest();
  j["licence"] = {{"spdx", "CC-BY-NC-4.0"}, {"commercial_use", false}};
  Manifest m = ParseManifest(j.dump()).value();
  CHECK(CheckLicence(m, Workspace{false}).ok());
  Status s = CheckLicence(m, Workspace{true});
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("CC-BY-NC-4.0"));
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("commercial"));
}

TEST_CASE("model files are checked against the manifest as they stream") {
  Manifest m = ParseManifest(GoodManifest().dump()).value();
  const ModelFile& f = *m.FindFile("model.onnx");
  {
    FileVerifier v(f);
    REQUIRE(v.Update(AsBytes("onnx-")).ok());
    REQUIRE(v.Update(AsBytes("bytes!")).ok());
    CHECK(v.Finish().ok());
  }
  {
    FileVerifier v(f);
    REQUIRE(v.Update(AsBytes("onnx-bytes?")).ok());
    Status s = v.Finish();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Matchers::StartsWith("model.onnx: BLAKE2b does not match"));
  }
  {
    FileVerifier v(f);
    REQUIRE(v.Update(AsBytes("onnx")).ok());
    CHECK(v.Finish().message() == "model.onnx: 4 bytes, but its manifest lists 11");
  }
  {
    FileVerifier v(f);
    CHECK(v.Update(AsBytes("onnx-bytes!+extra")).code() == StatusCode::kCorruption);
  }
}

}  // namespace
}  // namespace cairn::model
