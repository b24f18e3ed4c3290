// The native embedding host on the tiny-embed test pack (models/recipe/tiny_embeddings.py): the
// C++ words and ids equal the recipe's reference (words.py) and the embeddings equal its numpy
// reference over the source's float vectors; batches, padding, unknown words, wrong packs.
#include "core/runtime/ort_text_embedder.h"

#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "core/tokenizer/words.h"
#include "tests/support/test_packs.h"

namespace cairn::runtime {
namespace {

using nlohmann::json;
using testing::MakeSignedPack;
using testing::TempDir;

json Expected() {
  const Bytes b = testing::ReadFileBytes(testing::TestModelsDir() + "/tiny-embed-expected.json");
  return json::parse(std::string(b.begin(), b.end()));
}

TEST_CASE("text embedder: words, ids and vectors equal the recipe's reference") {
  TempDir dir;
  auto sp = MakeSignedPack(dir, "tiny-embed");
  LoadedPack pack = LoadPackDir(sp.dir, sp.trust, {}, "native-fp32").value();
  auto embedder = OrtTextEmbedder::Load(pack).value();
  CHECK(embedder->dimensions() == 8);
  const json expected = Expected();
  REQUIRE(expected.size() >= 6);
  std::vector<std::string> texts;
  for (const json& e : expected) {
    const std::string text = e["text"].get<std::string>();
    texts.push_back(text);
    INFO(text);
    CHECK(tokenizer::SplitWords(text) == e["words"].get<std::vector<std::string>>());
    CHECK(embedder->vocab().Encode(text) == e["ids"].get<std::vector<int64_t>>());
    std::vector<float> v = embedder->Embed(text).value();
    const auto want = e["embedding"].get<std::vector<double>>();
    REQUIRE(v.size() == want.size());
    for (size_t i = 0; i < v.size(); ++i) CHECK(std::abs(v[i] - want[i]) < 1e-5);
  }
  // One padded batch gives what one text at a time gives.
  auto batch = embedder->EmbedBatch(texts).value();
  REQUIRE(batch.size() == texts.size());
  for (size_t t = 0; t < texts.size(); ++t) {
    std::vector<float> one = embedder->Embed(texts[t]).value();
    for (size_t i = 0; i < one.size(); ++i) CHECK(std::abs(batch[t][i] - one[i]) < 1e-6);
  }
  // Known words give a unit vector; none give zero.
  std::vector<float> known = embedder->Embed("golden hour at the pier").value();
  CHECK(std::abs(Dot(known, known) - 1.0f) < 1e-5);
  CHECK(embedder->known_words("nothing here is known") == 0);
  std::vector<float> none = embedder->Embed("nothing here is known").value();
  CHECK(Dot(none, none) == 0.0f);
  // Similar texts are closer than different ones (shared words).
  std::vector<float> a = embedder->Embed("coffee at the beach").value();
  std::vector<float> b = embedder->Embed("beach coffee").value();
  std::vector<float> c = embedder->Embed("night city rain").value();
  CHECK(Dot(a, b) > Dot(a, c));
}

TEST_CASE("text embedder: wrong packs and variants are refused, naming them") {
  TempDir dir;
  auto llama = MakeSignedPack(dir, "tiny-llama");
  LoadedPack caption = LoadPackDir(llama.dir, llama.trust, {}, "native-fp32").value();
  auto not_embedding = OrtTextEmbedder::Load(caption);
  REQUIRE_FALSE(not_embedding.ok());
  CHECK(not_embedding.status().ToString().find("not an embedding pack") != std::string::npos);

  auto sp = MakeSignedPack(dir, "tiny-embed");
  LoadedPack web = LoadPackDir(sp.dir, sp.trust, {}, "wasm-int8").value();
  auto wrong_runtime = OrtTextEmbedder::Load(web);
  REQUIRE_FALSE(wrong_runtime.ok());
  CHECK(wrong_runtime.status().ToString().find("is for ort-web") != std::string::npos);

  // A vocabulary changed after signing is caught when the pack loads, naming the file.
  std::filesystem::copy(sp.dir, dir / "edited", std::filesystem::copy_options::recursive);
  testing::WriteFileText(dir / "edited/vocab.txt", "<pad>\nthe\nsun\n");
  auto edited = LoadPackDir(dir / "edited", sp.trust, {}, "native-fp32");
  REQUIRE_FALSE(edited.ok());
  CHECK(edited.status().ToString().find("vocab.txt") != std::string::npos);
}

}  // namespace
}  // namespace cairn::runtime
