// cairn-cli: Cairn's engine from the command line.
//
//   cairn-cli caption --model PACK --task TEXT --context TEXT --style TEXT [--n 3]
//                     [--preset low|preview|final] [--seed N] [--max-chars N] [--emoji]
//                     [--ban WORD]... [--max-hashtags N] [--variant native-fp32] [--threads N]
//                     [--commercial] [--trust HEX]... [--trust-file PATH]
//       Captions as JSON on stdout, each with its constraint problems and safety verdict, plus
//       the provenance and timings. The pack is verified against the trusted keys first.
//   cairn-cli prompt --task TEXT [--context …] [--style …] [--n 3] [--max-chars N] [--emoji]
//                    [--max-hashtags N] [--ban WORD]... [--chat-format chatml|llama3|none]
//       The exact prompt text the engine renders (what the caption model is trained on).
//   cairn-cli eval --model PACK --prompts FILE [--preset low] [--limit N] [--show N] [--trust …]
//       Caption quality metrics over a prompt set (tests/data/caption_eval_prompts.json).
//   cairn-cli embed --model PACK TEXT... [--variant native-fp32] [--trust …]
//       Texts through an embedding pack: known words per text, pairwise cosine similarity.
//   cairn-cli pack keygen KEYFILE          a new Ed25519 signing key (file mode 0600)
//   cairn-cli pack sign KEYFILE PACKDIR    sign PACKDIR/manifest.json -> manifest.sig
//   cairn-cli pack verify PACKDIR --trust HEX|--trust-file PATH   verify every file
//   cairn-cli device keygen KEYFILE        a new device key (Ed25519, file mode 0600); prints id
//   cairn-cli device register KEYFILE      the body of POST /v1/devices for the key
//   cairn-cli device sign KEYFILE METHOD TARGET [--body-file PATH|-] [--timestamp MS] [--nonce N]
//       The Cairn-* headers that sign the request (sync/PROTOCOL.md), one "Name: value" a line:
//       for scripts and tests talking to cairn-server. Default: now, and a fresh nonce.
//
// Trusted keys: --trust (hex public key, repeatable), --trust-file (one hex key per line), or
// $CAIRN_TRUSTED_KEYS (comma-separated). Exit status: 0 success, 1 failure (the message says
// what and where), 2 bad usage.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/crypto/hash.h"
#include "core/crypto/sign.h"
#include "core/engine/caption_engine.h"
#include "core/engine/caption_json.h"
#include "core/runtime/ort_decoder.h"
#include "core/runtime/ort_text_embedder.h"
#include "core/runtime/pack_dir.h"
#include "core/runtime/trusted_keys.h"
#include "cli/eval_captions.h"
#include "sync/blob_store.h"
#include "sync/protocol.h"
#include "sync/request_auth.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

constexpr char kUsage[] =
    "usage:\n"
    "  cairn-cli caption --model PACK --task TEXT --context TEXT --style TEXT [--n 3]\n"
    "                    [--preset low|preview|final] [--seed N] [--max-chars N] [--emoji]\n"
    "                    [--ban WORD]... [--variant native-fp32] [--threads N] [--commercial]\n"
    "                    [--trust HEX]... [--trust-file PATH]\n"
    "  cairn-cli prompt --task TEXT [--context TEXT] [--style TEXT] [--n 3] [--max-chars N]\n"
    "                   [--emoji] [--max-hashtags N] [--ban WORD]... [--chat-format chatml]\n"
    "  cairn-cli eval --model PACK --prompts FILE [--preset low] [--limit N] [--show N]\n"
    "                 [--variant native-fp32] [--trust HEX]... [--trust-file PATH]\n"
    "  cairn-cli embed --model PACK TEXT... [--variant native-fp32] [--trust HEX]...\n"
    "                  [--trust-file PATH]\n"
    "  cairn-cli pack keygen KEYFILE\n"
    "  cairn-cli pack sign KEYFILE PACKDIR\n"
    "  cairn-cli pack verify PACKDIR [--variant NAME] [--commercial] [--trust HEX]... [--trust-file PATH]\n"
    "  cairn-cli device keygen KEYFILE\n"
    "  cairn-cli device register KEYFILE\n"
    "  cairn-cli device sign KEYFILE METHOD TARGET [--body-file PATH|-] [--timestamp MS]\n"
    "                        [--nonce N]\n";

struct UsageError {
  std::string message;
};

int Usage(const std::string& why) {
  std::fprintf(stderr, "cairn-cli: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "cairn-cli: %s\n", s.ToString().c_str());
  return 1;
}

// Flags: "--name value", "--name=value", or boolean "--name"; the rest are positional.
struct Args {
  std::multimap<std::string, std::string> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  std::string Get(const std::string& f, const std::string& fallback = "") const {
    auto it = flags.find(f);
    return it == flags.end() ? fallback : it->second;
  }
  std::vector<std::string> All(const std::string& f) const {
    std::vector<std::string> out;
    for (auto [it, end] = flags.equal_range(f); it != end; ++it) out.push_back(it->second);
    return out;
  }
  int Int(const std::string& f, int fallback, int lo, int hi) const {
    if (!Has(f)) return fallback;
    const std::string v = Get(f);
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi) {
      throw UsageError{"--" + f + " must be a whole number from " + std::to_string(lo) + " to " +
                       std::to_string(hi) + " (got '" + v + "')"};
    }
    return static_cast<int>(n);
  }
};

Args Parse(int argc, char** argv, int first, const std::vector<std::string>& valued,
           const std::vector<std::string>& booleans) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (std::find(booleans.begin(), booleans.end(), name) != booleans.end()) {
      if (inline_value) throw UsageError{"--" + name + " takes no value"};
      a.flags.emplace(name, "");
    } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError{"--" + name + " needs a value"};
        value = argv[++i];
      }
      a.flags.emplace(name, value);
    } else {
      throw UsageError{"unknown flag --" + name};
    }
  }
  return a;
}

Result<model::TrustStore> Trust(const Args& a) {
  return runtime::LoadTrustedKeys({.hex_keys = a.All("trust"), .files = a.All("trust-file")});
}

// A caption-lm pack, verified and loaded on the native host.
struct Loaded {
  runtime::LoadedPack pack;
  std::unique_ptr<runtime::OrtDecoder> decoder;
  std::optional<engine::CaptionModel> model;
};

Status LoadCaptionModel(const Args& a, Loaded* out) {
  CAIRN_ASSIGN_OR_RETURN(model::TrustStore trust, Trust(a));
  model::Workspace ws{a.Has("commercial")};
  CAIRN_ASSIGN_OR_RETURN(out->pack, runtime::LoadPackDir(a.Get("model"), trust, ws,
                                                         a.Get("variant", "native-fp32")));
  const runtime::LoadedPack& pack = out->pack;
  if (pack.manifest.task != "caption-lm") {
    return Status(StatusCode::kInvalidArgument, "model " + pack.manifest.id + " is a " +
                                                    pack.manifest.task + " model, not a caption-lm");
  }
  runtime::OrtDecoderOptions opt;
  opt.name = pack.manifest.id;
  opt.intra_op_threads = a.Int("threads", 1, 0, 64);
  CAIRN_ASSIGN_OR_RETURN(out->decoder,
                         runtime::OrtDecoder::Load(pack.File(pack.variant().file), pack.variant(), opt));
  engine::ModelInfo info{pack.manifest, pack.variant_name, pack.variant_file().blake2b, "device"};
  CAIRN_ASSIGN_OR_RETURN(engine::CaptionModel m,
                         engine::CaptionModel::Create(info, pack.Text(pack.manifest.tokenizer_file),
                                                      out->decoder.get()));
  out->model.emplace(std::move(m));
  return Status::Ok();
}

int Eval(const Args& a) {
  for (const char* required : {"model", "prompts"}) {
    if (!a.Has(required)) throw UsageError{std::string("eval needs --") + required};
  }
  EvalOptions o;
  o.prompts_file = a.Get("prompts");
  o.preset = a.Get("preset", "low");
  o.limit = a.Int("limit", 0, 0, 100000);
  o.show = a.Int("show", 5, 0, 1000);
  Loaded loaded;
  Status s = LoadCaptionModel(a, &loaded);
  if (!s.ok()) return Fail(s);
  s = EvalCaptions(*loaded.model, o);
  return s.ok() ? 0 : Fail(s);
}

// Texts through an embedding pack: each text's known words, and the cosine similarity of every
// pair (the vectors are unit length), as JSON.
int Embed(const Args& a) {
  if (!a.Has("model")) throw UsageError{"embed needs --model"};
  if (a.positional.empty()) throw UsageError{"embed needs one or more TEXT arguments"};
  auto trust = Trust(a);
  if (!trust.ok()) return Fail(trust.status());
  auto pack = runtime::LoadPackDir(a.Get("model"), *trust, model::Workspace{a.Has("commercial")},
                                   a.Get("variant", "native-fp32"));
  if (!pack.ok()) return Fail(pack.status());
  auto embedder = runtime::OrtTextEmbedder::Load(*pack, a.Int("threads", 1, 0, 64));
  if (!embedder.ok()) return Fail(embedder.status());
  auto vectors = (*embedder)->EmbedBatch(a.positional);
  if (!vectors.ok()) return Fail(vectors.status());
  json out = {{"model", pack->manifest.id},
              {"version", pack->manifest.version},
              {"dimensions", (*embedder)->dimensions()},
              {"texts", json::array()},
              {"similarity", json::array()}};
  for (size_t i = 0; i < a.positional.size(); ++i) {
    out["texts"].push_back({{"text", a.positional[i]},
                            {"known_words", (*embedder)->known_words(a.positional[i])}});
    json row = json::array();
    for (size_t j = 0; j < a.positional.size(); ++j) {
      row.push_back(std::round(runtime::Dot((*vectors)[i], (*vectors)[j]) * 1e4) / 1e4);
    }
    out["similarity"].push_back(row);
  }
  std::printf("%s\n", out.dump(1).c_str());
  return 0;
}

// The rendered prompt the engine would give a model, for checking the training recipe.
int Prompt(const Args& a) {
  if (!a.Has("task")) throw UsageError{"prompt needs --task"};
  caption::Constraints c;
  c.count = a.Int("n", 3, 1, 10);
  c.max_chars = a.Int("max-chars", 220, 1, 2200);
  c.emoji_required = a.Has("emoji");
  c.max_hashtags = a.Int("max-hashtags", 10, 0, 30);
  c.banned = a.All("ban");
  auto format = prompt::ParseChatFormat(a.Get("chat-format", "chatml"));
  if (!format.ok()) throw UsageError{format.status().message()};
  prompt::CaptionPrompt p{a.Get("task"), a.Get("context"), a.Get("style"),
                          engine::CaptionOutputFormat(c)};
  auto r = prompt::RenderCaptionPrompt(p, *format, 1 << 20,
                                       [](std::string_view t) { return static_cast<int>(t.size()); });
  if (!r.ok()) return Fail(r.status());
  std::fwrite(r->text.data(), 1, r->text.size(), stdout);
  return 0;
}

int Caption(const Args& a) {
  for (const char* required : {"model", "task"}) {
    if (!a.Has(required)) throw UsageError{std::string("caption needs --") + required};
  }
  if (!a.positional.empty()) throw UsageError{"unexpected argument '" + a.positional[0] + "'"};
  engine::CaptionRequest req;
  req.prompt = {a.Get("task"), a.Get("context"), a.Get("style"), ""};
  req.constraints.count = a.Int("n", 3, 1, 10);
  req.constraints.max_chars = a.Int("max-chars", 220, 1, 2200);
  req.constraints.emoji_required = a.Has("emoji");
  req.constraints.banned = a.All("ban");
  req.constraints.max_hashtags = a.Int("max-hashtags", 10, 0, 30);
  req.preset = a.Get("preset", "preview");
  if (req.preset != "low" && req.preset != "preview" && req.preset != "final") {
    throw UsageError{"--preset must be low, preview or final (got '" + req.preset + "')"};
  }
  req.seed = static_cast<uint64_t>(a.Int("seed", 0, 0, 1 << 30));
  req.max_new_tokens = a.Int("max-new-tokens", 0, 0, 4096);

  Loaded loaded;
  Status s = LoadCaptionModel(a, &loaded);
  if (!s.ok()) return Fail(s);
  engine::CaptionModel* model = &*loaded.model;
  runtime::OrtDecoder* decoder_ptr = loaded.decoder.get();
  auto r = engine::GenerateCaptions(*model, req);
  if (!r.ok()) return Fail(r.status());

  json out = engine::CaptionResultJson(*r);
  out["stats"]["warm_up_ms"] = decoder_ptr->warm_up_ms();
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

Status WriteSecretFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wx");  // never overwrite a key
  if (f == nullptr) {
    return Status(errno == EEXIST ? StatusCode::kAlreadyExists : StatusCode::kIoError,
                  "cannot create " + path + ": " + std::strerror(errno));
  }
  ::fchmod(fileno(f), 0600);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok ? Status::Ok()
                                   : Status(StatusCode::kIoError, "cannot write " + path);
}

int Pack(int argc, char** argv) {
  if (argc < 3) throw UsageError{"pack needs keygen, sign or verify"};
  const std::string verb = argv[2];
  Args a = Parse(argc, argv, 3, {"trust", "trust-file", "variant"}, {"commercial"});
  if (verb == "keygen") {
    if (a.positional.size() != 1) throw UsageError{"pack keygen KEYFILE"};
    crypto::SigningKeyPair kp = crypto::GenerateSigningKeyPair();
    const json key = {{"type", "ed25519"},
                      {"public_key", ToHex(kp.public_key)},
                      {"key_id", model::TrustStore::KeyId(kp.public_key)},
                      {"secret_key", ToHex(kp.secret_key.view())}};
    Status s = WriteSecretFile(a.positional[0], key.dump(2) + "\n");
    if (!s.ok()) return Fail(s);
    std::printf("%s\n", ToHex(kp.public_key).c_str());
    return 0;
  }
  if (verb == "sign") {
    if (a.positional.size() != 2) throw UsageError{"pack sign KEYFILE PACKDIR"};
    auto key_text = runtime::ReadHostFile(a.positional[0], 4096);
    if (!key_text.ok()) return Fail(key_text.status());
    json key = json::parse(AsChars(*key_text), nullptr, false);
    if (!key.is_object() || !key["secret_key"].is_string() || !key["public_key"].is_string()) {
      return Fail(Status(StatusCode::kInvalidArgument,
                         a.positional[0] + " is not a key file made by 'cairn-cli pack keygen'"));
    }
    auto secret = FromHex(key["secret_key"].get<std::string>());
    auto pub = FromHex(key["public_key"].get<std::string>());
    if (!secret.ok() || !pub.ok()) return Fail(Status(StatusCode::kInvalidArgument, "bad key file"));
    const std::string dir = a.positional[1];
    auto manifest = runtime::ReadHostFile(dir + "/manifest.json", model::kMaxManifestBytes);
    if (!manifest.ok()) return Fail(manifest.status());
    auto parsed = model::ParseManifest(AsChars(*manifest));
    if (!parsed.ok()) return Fail(parsed.status().WithContext(dir + "/manifest.json"));
    auto sig = crypto::Sign(*secret, *manifest);
    if (!sig.ok()) return Fail(sig.status());
    std::ofstream out(dir + "/manifest.sig", std::ios::trunc);
    out << model::SignatureFileJson(model::TrustStore::KeyId(*pub), *sig);
    if (!out.flush()) return Fail(Status(StatusCode::kIoError, "cannot write " + dir + "/manifest.sig"));
    std::printf("signed %s %s with key %s\n", parsed->id.c_str(), parsed->version.c_str(),
                model::TrustStore::KeyId(*pub).c_str());
    return 0;
  }
  if (verb == "verify") {
    if (a.positional.size() != 1) throw UsageError{"pack verify PACKDIR"};
    auto trust = Trust(a);
    if (!trust.ok()) return Fail(trust.status());
    const std::string dir = a.positional[0];
    // --commercial: verify as a commercial workspace would (non-commercial licences refused).
    auto first = runtime::LoadPackDir(dir, *trust, model::Workspace{a.Has("commercial")},
                                      a.Get("variant", "native-fp32"));
    if (!first.ok()) return Fail(first.status());
    std::printf("ok: %s %s (%s, %s), signed by %s, %zu files verified\n",
                first->manifest.id.c_str(), first->manifest.version.c_str(),
                first->manifest.task.c_str(), first->manifest.licence.spdx.c_str(),
                first->manifest.signer.c_str(), first->files.size());
    return 0;
  }
  throw UsageError{"unknown pack command '" + verb + "'"};
}

constexpr char kDeviceKeyType[] = "cairn-device-ed25519";

Result<crypto::SigningKeyPair> LoadDeviceKey(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(Bytes text, runtime::ReadHostFile(path, 4096));
  json key = json::parse(AsChars(text), nullptr, false);
  SecureWipe(text.data(), text.size());
  const Status bad(StatusCode::kInvalidArgument,
                   path + " is not a device key file made by 'cairn-cli device keygen'");
  if (!key.is_object() || key["type"] != kDeviceKeyType || !key["secret_key"].is_string() ||
      !key["public_key"].is_string()) {
    return bad;
  }
  Result<Bytes> secret = FromHex(key["secret_key"].get<std::string>());
  if (!secret.ok() || secret->size() != crypto::kSignSecretKeyBytes) return bad;
  Result<crypto::SigningKeyPair> kp =
      crypto::SigningKeyPairFromSeed(ByteView(*secret).first(crypto::kSignSeedBytes));
  SecureWipe(secret->data(), secret->size());
  if (!kp.ok()) return kp.status();
  if (ToHex(kp->public_key) != key["public_key"].get<std::string>()) {
    return Status(StatusCode::kCorruption,
                  path + ": the public key does not match the secret key; the file is damaged");
  }
  return kp;
}

Result<std::string> ReadBody(const Args& a) {
  if (!a.Has("body-file")) return std::string();
  const std::string path = a.Get("body-file");
  if (path != "-") {
    CAIRN_ASSIGN_OR_RETURN(Bytes body, runtime::ReadHostFile(path, sync::kMaxBlobBytes));
    return std::string(AsChars(body));
  }
  std::string body((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  // The largest body of any route (a blob upload); each route's own limit is the server's.
  if (body.size() > sync::kMaxBlobBytes) {
    return Status(StatusCode::kOutOfRange, "the body on stdin is over " +
                                               std::to_string(sync::kMaxBlobBytes) +
                                               " bytes, the protocol's limit");
  }
  return body;
}

int Device(int argc, char** argv) {
  if (argc < 3) throw UsageError{"device needs keygen, register or sign"};
  const std::string verb = argv[2];
  Args a = Parse(argc, argv, 3, {"body-file", "timestamp", "nonce"}, {});
  if (verb == "keygen") {
    if (a.positional.size() != 1) throw UsageError{"device keygen KEYFILE"};
    crypto::SigningKeyPair kp = crypto::GenerateSigningKeyPair();
    const std::string id = sync::DeviceIdOf(kp.public_key);
    json key = {{"type", kDeviceKeyType},
                {"device_id", id},
                {"public_key", ToHex(kp.public_key)},
                {"secret_key", ToHex(kp.secret_key.view())}};
    std::string text = key.dump(2) + "\n";
    Status s = WriteSecretFile(a.positional[0], text);
    SecureWipe(text.data(), text.size());
    if (!s.ok()) return Fail(s);
    std::printf("%s\n", id.c_str());
    return 0;
  }
  if (verb == "register" || verb == "sign") {
    if (verb == "register" && a.positional.size() != 1) throw UsageError{"device register KEYFILE"};
    if (verb == "sign" && a.positional.size() != 3) {
      throw UsageError{"device sign KEYFILE METHOD TARGET"};
    }
    Result<crypto::SigningKeyPair> kp = LoadDeviceKey(a.positional[0]);
    if (!kp.ok()) return Fail(kp.status());
    if (verb == "register") {
      std::printf("%s\n", sync::MakeRegisterRequest(kp->public_key).body.c_str());
      return 0;
    }
    Result<std::string> body = ReadBody(a);
    if (!body.ok()) return Fail(body.status());
    int64_t now = SystemClock::Default().NowUnixMillis();
    if (a.Has("timestamp")) {
      const std::string t = a.Get("timestamp");
      char* end = nullptr;
      now = std::strtoll(t.c_str(), &end, 10);
      if (t.empty() || *end != '\0' || now < 0) {
        throw UsageError{"--timestamp must be unix milliseconds (got '" + t + "')"};
      }
    }
    sync::RequestSigner signer(std::move(*kp));
    sync::HttpRequest req{a.positional[1], a.positional[2], {}, std::move(*body)};
    Status s = signer.Sign(req, now, a.Get("nonce", sync::NewNonce()));
    if (!s.ok()) return Fail(s);
    for (const auto& [name, value] : req.headers) {
      std::printf("%s: %s\n", name.c_str(), value.c_str());
    }
    return 0;
  }
  throw UsageError{"unknown device command '" + verb + "'"};
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage("no command");
  const std::string cmd = argv[1];
  try {
    if (cmd == "caption") {
      return Caption(Parse(argc, argv, 2,
                           {"model", "task", "context", "style", "n", "preset", "seed",
                            "max-chars", "ban", "variant", "threads", "trust", "trust-file",
                            "max-new-tokens", "max-hashtags"},
                           {"emoji", "commercial"}));
    }
    if (cmd == "prompt") {
      return Prompt(Parse(argc, argv, 2,
                          {"task", "context", "style", "n", "max-chars", "max-hashtags", "ban",
                           "chat-format"},
                          {"emoji"}));
    }
    if (cmd == "eval") {
      return Eval(Parse(argc, argv, 2,
                        {"model", "prompts", "preset", "limit", "show", "variant", "threads",
                         "trust", "trust-file"},
                        {"commercial"}));
    }
    if (cmd == "embed") {
      return Embed(Parse(argc, argv, 2, {"model", "variant", "threads", "trust", "trust-file"},
                         {"commercial"}));
    }
    if (cmd == "pack") return Pack(argc, argv);
    if (cmd == "device") return Device(argc, argv);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    return Usage("unknown command '" + cmd + "'");
  } catch (const UsageError& e) {
    return Usage(e.message);
  }
}

}  // namespace
}  // namespace cairn::cli

int main(int argc, char** argv) { return cairn::cli::Main(argc, argv); }
