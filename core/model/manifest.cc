#include "core/model/manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <utility>

#include "core/crypto/sign.h"

namespace cairn::model {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 16;

// Nesting depth of a JSON text, counted before parsing so a hostile manifest cannot recurse
// the parser deep.
int JsonDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

Status Bad(const std::string& field, const std::string& what) {
  return InvalidArgument("manifest: " + field + " " + what);
}

bool IsSafeName(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

bool IsHex(std::string_view s, size_t len) {
  return s.size() == len && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<std::string> Str(const json& obj, const std::string& key, const std::string& where,
                        bool required = true, size_t max_len = 256) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(where + key, "is missing");
    return std::string();
  }
  if (!it->is_string()) return Bad(where + key, "must be a string");
  std::string v = it->get<std::string>();
  if (v.size() > max_len) return Bad(where + key, "is longer than " + std::to_string(max_len));
  return v;
}

Result<const json*> Arr(const json& obj, const std::string& key, const std::string& where,
                        size_t min_items, size_t max_items) {
  auto it = obj.find(key);
  if (it == obj.end()) return Bad(where + key, "is missing");
  if (!it->is_array()) return Bad(where + key, "must be an array");
  if (it->size() < min_items || it->size() > max_items) {
    return Bad(where + key, "must have " + std::to_string(min_items) + " to " +
                                std::to_string(max_items) + " items");
  }
  return &*it;
}

Result<double> Num(const json& obj, const std::string& key, const std::string& where, double lo,
                   double hi) {
  auto it = obj.find(key);
  if (it == obj.end()) return Bad(where + key, "is missing");
  if (!it->is_number()) return Bad(where + key, "must be a number");
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return Bad(where + key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

Status OneOf(const std::string& value, std::initializer_list<const char*> allowed,
             const std::string& field) {
  for (const char* a : allowed) {
    if (value == a) return Status::Ok();
  }
  std::string list;
  for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
  return Bad(field, "is '" + value.substr(0, 40) + "', not one of: " + list);
}

Result<std::vector<TensorSpec>> Tensors(const json& obj, const std::string& key,
                                        const std::string& where) {
  CAIRN_ASSIGN_OR_RETURN(const json* arr, Arr(obj, key, where, 0, 256));
  std::vector<TensorSpec> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& t = (*arr)[i];
    const std::string w = where + key + "[" + std::to_string(i) + "].";
    if (!t.is_object()) return Bad(where + key + "[" + std::to_string(i) + "]", "must be an object");
    TensorSpec spec;
    CAIRN_ASSIGN_OR_RETURN(spec.name, Str(t, "name", w));
    CAIRN_ASSIGN_OR_RETURN(spec.type, Str(t, "type", w));
    CAIRN_ASSIGN_OR_RETURN(const json* shape, Arr(t, "shape", w, 0, 8));
    for (const json& d : *shape) {
      if (d.is_string()) {
        spec.shape.push_back(d.get<std::string>().substr(0, 64));
      } else if (d.is_number_unsigned()) {
        spec.shape.push_back(std::to_string(d.get<uint64_t>()));
      } else {
        return Bad(w + "shape", "entries must be sizes or names");
      }
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<Manifest> FromJson(const json& j) {
  if (!j.is_object()) return Bad("", "must be a JSON object");
  Manifest m;
  CAIRN_ASSIGN_OR_RETURN(std::string schema, Str(j, "schema", ""));
  if (schema != kManifestSchema) {
    return Unsupported("manifest: schema '" + schema.substr(0, 60) + "' is not " +
                       kManifestSchema);
  }
  CAIRN_ASSIGN_OR_RETURN(m.id, Str(j, "id", ""));
  if (!IsSafeName(m.id, 64)) return Bad("id", "must be 1-64 of [A-Za-z0-9._-]");
  CAIRN_ASSIGN_OR_RETURN(m.version, Str(j, "version", ""));
  if (!IsSafeName(m.version, 32)) return Bad("version", "must be 1-32 of [A-Za-z0-9._-]");
  CAIRN_ASSIGN_OR_RETURN(m.task, Str(j, "task", ""));
  CAIRN_RETURN_IF_ERROR(
      OneOf(m.task, {"caption-lm", "embedding", "image-safety", "image-tags"}, "task"));
  CAIRN_ASSIGN_OR_RETURN(m.description, Str(j, "description", "", false, 2000));

  auto lic = j.find("licence");
  if (lic == j.end() || !lic->is_object()) return Bad("licence", "must be an object");
  CAIRN_ASSIGN_OR_RETURN(m.licence.spdx, Str(*lic, "spdx", "licence."));
  if (m.licence.spdx.empty()) return Bad("licence.spdx", "is empty");
  auto commercial = lic->find("commercial_use");
  if (commercial == lic->end() || !commercial->is_boolean()) {
    return Bad("licence.commercial_use", "must be true or false");
  }
  m.licence.commercial_use = commercial->get<bool>();
  CAIRN_ASSIGN_OR_RETURN(m.licence.attribution, Str(*lic, "attribution", "licence.", false, 2000));

  CAIRN_ASSIGN_OR_RETURN(const json* files, Arr(j, "files", "", 1, 64));
  std::set<std::string> names;
  for (size_t i = 0; i < files->size(); ++i) {
    const json& f = (*files)[i];
    const std::string w = "files[" + std::to_string(i) + "].";
    if (!f.is_object()) return Bad("files[" + std::to_string(i) + "]", "must be an object");
    ModelFile mf;
    CAIRN_ASSIGN_OR_RETURN(mf.name, Str(f, "name", w));
    if (!IsSafeName(mf.name, 128)) {
      return Bad(w + "name", "'" + mf.name.substr(0, 60) +
                                 "' is not a plain file name (no paths, no '..', [A-Za-z0-9._-])");
    }
    if (!names.insert(mf.name).second) return Bad(w + "name", "'" + mf.name + "' is listed twice");
    auto size = f.find("size");
    if (size == f.end() || !size->is_number_unsigned()) {
      return Bad(w + "size", "must be a non-negative integer");
    }
    mf.size = size->get<uint64_t>();
    if (mf.size > kMaxModelFileBytes) return Bad(w + "size", "is larger than 4 GiB");
    CAIRN_ASSIGN_OR_RETURN(mf.blake2b, Str(f, "blake2b", w));
    if (!IsHex(mf.blake2b, 64)) return Bad(w + "blake2b", "must be 64 lower-case hex characters");
    m.files.push_back(std::move(mf));
  }

  CAIRN_ASSIGN_OR_RETURN(const json* variants, Arr(j, "variants", "", 1, 16));
  for (size_t i = 0; i < variants->size(); ++i) {
    const json& v = (*variants)[i];
    const std::string w = "variants[" + std::to_string(i) + "].";
    if (!v.is_object()) return Bad("variants[" + std::to_string(i) + "]", "must be an object");
    Variant var;
    CAIRN_ASSIGN_OR_RETURN(var.name, Str(v, "name", w));
    CAIRN_ASSIGN_OR_RETURN(var.runtime, Str(v, "runtime", w));
    CAIRN_RETURN_IF_ERROR(OneOf(var.runtime, {"ort-native", "ort-web"}, w + "runtime"));
    CAIRN_ASSIGN_OR_RETURN(var.precision, Str(v, "precision", w));
    CAIRN_RETURN_IF_ERROR(OneOf(var.precision, {"fp32", "fp16", "int8", "q4"}, w + "precision"));
    CAIRN_ASSIGN_OR_RETURN(const json* eps, Arr(v, "execution_providers", w, 1, 8));
    for (const json& ep : *eps) {
      if (!ep.is_string()) return Bad(w + "execution_providers", "must be strings");
      std::string e = ep.get<std::string>();
      CAIRN_RETURN_IF_ERROR(OneOf(e, {"cpu", "wasm", "webgpu", "webnn"}, w + "execution_providers"));
      var.execution_providers.push_back(e);
    }
    CAIRN_ASSIGN_OR_RETURN(var.file, Str(v, "file", w));
    if (!names.count(var.file)) return Bad(w + "file", "'" + var.file + "' is not in files");
    CAIRN_ASSIGN_OR_RETURN(var.inputs, Tensors(v, "inputs", w));
    CAIRN_ASSIGN_OR_RETURN(var.outputs, Tensors(v, "outputs", w));
    m.variants.push_back(std::move(var));
  }

  auto tok = j.find("tokenizer");
  if (tok != j.end()) {
    if (!tok->is_object()) return Bad("tokenizer", "must be an object");
    CAIRN_ASSIGN_OR_RETURN(m.tokenizer_file, Str(*tok, "file", "tokenizer."));
    if (!names.count(m.tokenizer_file)) {
      return Bad("tokenizer.file", "'" + m.tokenizer_file + "' is not in files");
    }
    CAIRN_ASSIGN_OR_RETURN(m.chat_format, Str(*tok, "chat_format", "tokenizer."));
    CAIRN_RETURN_IF_ERROR(OneOf(m.chat_format, {"chatml", "llama3", "none"}, "tokenizer.chat_format"));
  } else if (m.task == "caption-lm") {
    return Bad("tokenizer", "is required for a caption-lm model");
  }

  auto text = j.find("text");
  if (text != j.end()) {
    if (!text->is_object()) return Bad("text", "must be an object");
    CAIRN_ASSIGN_OR_RETURN(m.text_vocab, Str(*text, "vocab", "text."));
    if (!names.count(m.text_vocab)) {
      return Bad("text.vocab", "'" + m.text_vocab + "' is not in files");
    }
    CAIRN_ASSIGN_OR_RETURN(m.text_rule, Str(*text, "rule", "text."));
    CAIRN_RETURN_IF_ERROR(OneOf(m.text_rule, {"cairn-words/1"}, "text.rule"));
  }

  // Class names of image-safety and image-tags models, in output order.
  auto labels = j.find("labels");
  if (labels != j.end()) {
    if (!labels->is_array() || labels->size() > 10000) {
      return Bad("labels", "must be an array of at most 10000 strings");
    }
    for (const auto& l : *labels) {
      if (!l.is_string() || l.get<std::string>().empty() || l.get<std::string>().size() > 200) {
        return Bad("labels", "must hold strings of 1-200 bytes");
      }
      m.labels.push_back(l.get<std::string>());
    }
  }

  auto ctx = j.find("context_length");
  if (ctx != j.end()) {
    if (!ctx->is_number_integer() || ctx->get<int64_t>() < 1 || ctx->get<int64_t>() > (1 << 22)) {
      return Bad("context_length", "must be a whole number of tokens from 1 to 4194304");
    }
    m.context_length = ctx->get<int64_t>();
  }

  auto presets = j.find("presets");
  if (presets != j.end()) {
    if (!presets->is_object() || presets->size() > 8) {
      return Bad("presets", "must be an object of at most 8 presets");
    }
    for (auto it = presets->begin(); it != presets->end(); ++it) {
      CAIRN_RETURN_IF_ERROR(OneOf(it.key(), {"low", "preview", "final"}, "presets"));
      const std::string w = "presets." + it.key() + ".";
      if (!it->is_object()) return Bad("presets." + it.key(), "must be an object");
      Preset p;
      CAIRN_ASSIGN_OR_RETURN(p.temperature, Num(*it, "temperature", w, 0, 5));
      CAIRN_ASSIGN_OR_RETURN(double top_k, Num(*it, "top_k", w, 0, 1000));
      p.top_k = static_cast<int>(top_k);
      CAIRN_ASSIGN_OR_RETURN(p.top_p, Num(*it, "top_p", w, 0.01, 1));
      CAIRN_ASSIGN_OR_RETURN(p.repetition_penalty, Num(*it, "repetition_penalty", w, 1, 3));
      CAIRN_ASSIGN_OR_RETURN(double max_new, Num(*it, "max_new_tokens", w, 1, 4096));
      p.max_new_tokens = static_cast<int>(max_new);
      m.presets[it.key()] = p;
    }
  }
  return m;
}

Result<json> ParseJson(std::string_view text, const char* what) {
  if (text.size() > kMaxManifestBytes) {
    return InvalidArgument(std::string(what) + " is larger than 1 MiB");
  }
  if (JsonDepth(text) > kMaxDepth) {
    return InvalidArgument(std::string(what) + " nests deeper than " + std::to_string(kMaxDepth));
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string(what) + " is not valid JSON: " + e.what());
  }
}

}  // namespace

const ModelFile* Manifest::FindFile(std::string_view name) const {
  for (const auto& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Preset Manifest::PresetOrDefault(std::string_view name) const {
  if (auto it = presets.find(std::string(name)); it != presets.end()) return it->second;
  if (auto it = presets.find("preview"); it != presets.end()) return it->second;
  Preset p;
  if (name == "low") {
    p.temperature = 0;
    p.max_new_tokens = 96;
  } else if (name == "final") {
    p.temperature = 0.8f;
    p.top_k = 50;
    p.top_p = 0.95f;
    p.max_new_tokens = 256;
  }
  return p;
}

const Variant* Manifest::FindVariant(std::string_view name) const {
  for (const auto& v : variants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

std::string TrustStore::KeyId(ByteView public_key) {
  Bytes h = crypto::Blake2bHash(public_key, 32).value();
  return ToHex(ByteView(h).first(8));
}

Status TrustStore::Add(ByteView public_key) {
  if (public_key.size() != crypto::kSignPublicKeyBytes) {
    return InvalidArgument("trust store: an Ed25519 public key is 32 bytes, got " +
                           std::to_string(public_key.size()));
  }
  keys_[KeyId(public_key)] = Bytes(public_key.begin(), public_key.end());
  return Status::Ok();
}

Status TrustStore::AddHex(std::string_view public_key_hex) {
  CAIRN_ASSIGN_OR_RETURN(Bytes key, FromHex(public_key_hex));
  return Add(key);
}

const Bytes* TrustStore::Find(std::string_view key_id) const {
  auto it = keys_.find(std::string(key_id));
  return it == keys_.end() ? nullptr : &it->second;
}

Result<Manifest> ParseManifest(std::string_view text) {
  CAIRN_ASSIGN_OR_RETURN(json j, ParseJson(text, "manifest"));
  return FromJson(j);
}

std::string SignatureFileJson(std::string_view key_id, ByteView signature) {
  return json{{"key_id", key_id}, {"signature", ToHex(signature)}}.dump() + "\n";
}

Result<Manifest> VerifyManifest(ByteView manifest_json, ByteView signature_file,
                                const TrustStore& trust) {
  CAIRN_ASSIGN_OR_RETURN(json sig, ParseJson(AsChars(signature_file), "manifest.sig"));
  if (!sig.is_object()) return InvalidArgument("manifest.sig must be a JSON object");
  CAIRN_ASSIGN_OR_RETURN(std::string key_id, Str(sig, "key_id", "manifest.sig "));
  CAIRN_ASSIGN_OR_RETURN(std::string sig_hex, Str(sig, "signature", "manifest.sig "));
  if (!IsHex(key_id, 16)) return InvalidArgument("manifest.sig: key_id must be 16 hex characters");
  if (!IsHex(sig_hex, 128)) {
    return InvalidArgument("manifest.sig: signature must be 128 hex characters");
  }
  const Bytes* key = trust.Find(key_id);
  if (key == nullptr) {
    return AuthFailed("model pack is signed by key " + key_id +
                      ", which this app does not trust; refusing to load it");
  }
  CAIRN_ASSIGN_OR_RETURN(Bytes signature, FromHex(sig_hex));
  Status s = crypto::Verify(*key, manifest_json, signature);
  if (!s.ok()) {
    return AuthFailed("manifest.json does not match its signature by key " + key_id +
                      ": it was modified after signing");
  }
  CAIRN_ASSIGN_OR_RETURN(Manifest m, ParseManifest(AsChars(manifest_json)));
  m.signer = key_id;
  return m;
}

Status CheckLicence(const Manifest& m, const Workspace& workspace) {
  if (workspace.commercial && !m.licence.commercial_use) {
    return PermissionDenied("model " + m.id + " " + m.version + " is licensed " + m.licence.spdx +
                            ", which does not allow commercial use, and this workspace is "
                            "marked commercial");
  }
  return Status::Ok();
}

FileVerifier::FileVerifier(const ModelFile& file)
    : file_(file), hash_(crypto::Blake2b::Create(32).value()) {}

FileVerifier::FileVerifier(const ModelFile& file, crypto::Blake2b hash, uint64_t seen)
    : file_(file), hash_(std::move(hash)), seen_(seen) {}

// Save()'s layout: the bytes seen (u64 little-endian), then Blake2b::Save().
Result<Bytes> FileVerifier::Save() const {
  CAIRN_ASSIGN_OR_RETURN(Bytes hash, hash_.Save());
  Bytes out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(seen_ >> (8 * i));
  out.insert(out.end(), hash.begin(), hash.end());
  return out;
}

Result<FileVerifier> FileVerifier::Restore(const ModelFile& file, ByteView saved) {
  if (saved.size() < 8) return InvalidArgument(file.name + ": the saved verifier state is cut short");
  uint64_t seen = 0;
  for (int i = 0; i < 8; ++i) seen |= static_cast<uint64_t>(saved[i]) << (8 * i);
  if (seen > file.size) {
    return InvalidArgument(file.name + ": the saved verifier state has seen more bytes than the file has");
  }
  CAIRN_ASSIGN_OR_RETURN(crypto::Blake2b hash, crypto::Blake2b::Restore(saved.subspan(8)));
  return FileVerifier(file, std::move(hash), seen);
}

Status CheckFileGrowth(const ModelFile& file, uint64_t seen) {
  if (seen <= file.size) return Status::Ok();
  return Corruption(file.name + ": larger than the " + std::to_string(file.size) +
                    " bytes its manifest lists");
}

Status CheckFileSize(const ModelFile& file, uint64_t seen) {
  if (seen == file.size) return Status::Ok();
  return Corruption(file.name + ": " + std::to_string(seen) + " bytes, but its manifest lists " +
                    std::to_string(file.size));
}

Status FileDigestMismatch(const ModelFile& file) {
  return Corruption(file.name + ": BLAKE2b does not match the signed manifest (the file was "
                                "modified or damaged)");
}

Status FileVerifier::Update(ByteView data) {
  seen_ += data.size();
  CAIRN_RETURN_IF_ERROR(CheckFileGrowth(file_, seen_));
  hash_.Update(data);
  return Status::Ok();
}

Status FileVerifier::Finish() {
  CAIRN_RETURN_IF_ERROR(CheckFileSize(file_, seen_));
  CAIRN_ASSIGN_OR_RETURN(Bytes digest, hash_.Final());
  if (ToHex(digest) != file_.blake2b) return FileDigestMismatch(file_);
  return Status::Ok();
}

}  // namespace cairn::model
