// The C ABI: model packs (verified, stored in the vault's blob store) and host-driven captions.
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "api/api_internal.h"
#include "core/engine/caption_json.h"

namespace cairn::api {
namespace {

using nlohmann::json;

constexpr char kSignatureSettingPrefix[] = "model.signature.";
constexpr char kWorkspaceCommercial[] = "workspace.commercial";

// The workspace the licence policy applies (model::CheckLicence): a vault setting, personal
// (non-commercial) until the creator marks it commercial.
Result<model::Workspace> WorkspaceOf(storage::Vault& v) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> c, v.GetSetting(kWorkspaceCommercial));
  return model::Workspace{c.has_value() && *c == "1"};
}

Status CheckLicenceHere(storage::Vault& v, const model::Manifest& m) {
  CAIRN_ASSIGN_OR_RETURN(model::Workspace w, WorkspaceOf(v));
  Status s = model::CheckLicence(m, w);
  if (!s.ok()) {
    return Status(s.code(), s.message() + ": mark the workspace personal (non-commercial) in "
                                          "Settings to use it, or use another model");
  }
  return s;
}

ByteView View(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Result<model::TrustStore> ParseTrust(const char* keys) {
  model::TrustStore trust;
  if (keys != nullptr) {
    std::string k;
    for (const char* p = keys;; ++p) {
      const char c = *p;
      if (c == '\0' || c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
        if (!k.empty()) {
          Status s = trust.AddHex(k);
          if (!s.ok()) return s.WithContext("trusted key '" + k.substr(0, 16) + "…'");
          k.clear();
        }
        if (c == '\0') break;
      } else {
        k += c;
      }
    }
  }
  if (trust.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "no trusted model-signing key: a model pack is never loaded unverified");
  }
  return trust;
}

json SummaryJson(const model::Manifest& m) {
  json files = json::array();
  for (const model::ModelFile& f : m.files) {
    files.push_back({{"name", f.name}, {"size", f.size}, {"blake2b", f.blake2b}});
  }
  json variants = json::array();
  for (const model::Variant& v : m.variants) {
    json inputs = json::array();
    for (const model::TensorSpec& t : v.inputs) {
      inputs.push_back({{"name", t.name}, {"type", t.type}, {"shape", t.shape}});
    }
    variants.push_back({{"name", v.name},
                        {"runtime", v.runtime},
                        {"inputs", inputs},
                        {"precision", v.precision},
                        {"execution_providers", v.execution_providers},
                        {"file", v.file}});
  }
  return {{"id", m.id},
          {"version", m.version},
          {"task", m.task},
          {"description", m.description},
          {"licence",
           {{"spdx", m.licence.spdx},
            {"commercial_use", m.licence.commercial_use},
            {"attribution", m.licence.attribution}}},
          {"files", files},
          {"variants", variants},
          {"tokenizer_file", m.tokenizer_file},
          {"text", {{"vocab", m.text_vocab}, {"rule", m.text_rule}}},
          {"labels", m.labels},
          {"signer", m.signer}};
}

Result<cairn_pack*> OpenPack(std::string manifest, std::string signature, const char* keys) {
  CAIRN_ASSIGN_OR_RETURN(model::TrustStore trust, ParseTrust(keys));
  CAIRN_ASSIGN_OR_RETURN(model::Manifest m, model::VerifyManifest(View(manifest), View(signature),
                                                                  trust));
  return new cairn_pack{std::move(m), std::move(manifest), std::move(signature)};
}

Result<const model::ModelFile*> PackFile(const cairn_pack* pack, const char* name) {
  CAIRN_RETURN_IF_ERROR(Need(pack, "pack"));
  CAIRN_RETURN_IF_ERROR(Need(name, "file_name"));
  const model::ModelFile* f = pack->manifest.FindFile(name);
  if (f == nullptr) {
    return Status(StatusCode::kNotFound, "model " + pack->manifest.id + " has no file '" +
                                             std::string(name) + "' in its signed manifest");
  }
  return f;
}

Result<caption::Constraints> ParseConstraints(const json& j, engine::CaptionRequest* req) {
  caption::Constraints c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = *it;
    auto want = [&](bool ok, const char* type) -> Status {
      if (ok) return Status::Ok();
      return InvalidArgument("caption request field '" + k + "' must be " + type);
    };
    if (k == "task" || k == "context" || k == "style" || k == "output_format" || k == "preset") {
      CAIRN_RETURN_IF_ERROR(want(v.is_string(), "a string"));
      std::string* out = k == "task"      ? &req->prompt.task
                         : k == "context" ? &req->prompt.context
                         : k == "style"   ? &req->prompt.style
                         : k == "preset"  ? &req->preset
                                          : &req->prompt.output_format;
      *out = v.get<std::string>();
    } else if (k == "count" || k == "max_chars" || k == "max_hashtags") {
      CAIRN_RETURN_IF_ERROR(want(v.is_number_integer(), "a whole number"));
      const int64_t n = v.get<int64_t>();
      if (n < -1 || n > 100000) return InvalidArgument("caption request field '" + k + "' is out of range");
      (k == "count" ? c.count : k == "max_chars" ? c.max_chars : c.max_hashtags) = static_cast<int>(n);
    } else if (k == "seed") {
      CAIRN_RETURN_IF_ERROR(want(v.is_number_unsigned() || v.is_number_integer(), "a whole number"));
      req->seed = v.get<uint64_t>();
    } else if (k == "emoji_required") {
      CAIRN_RETURN_IF_ERROR(want(v.is_boolean(), "true or false"));
      c.emoji_required = v.get<bool>();
    } else if (k == "banned") {
      CAIRN_RETURN_IF_ERROR(want(v.is_array(), "an array of strings"));
      for (const json& w : v) {
        CAIRN_RETURN_IF_ERROR(want(w.is_string(), "an array of strings"));
        c.banned.push_back(w.get<std::string>());
      }
    } else {
      return InvalidArgument("unknown caption request field '" + k + "'");
    }
  }
  return c;
}

}  // namespace
}  // namespace cairn::api

struct cairn_model_file_writer {
  std::optional<cairn::storage::BlobWriter> blob;
  cairn::model::ModelFile file;
  std::string model_id;
};

struct cairn_caption_session {
  std::unique_ptr<cairn::engine::CaptionSession> session;
  std::vector<int32_t> feeds;
};

using namespace cairn;       // NOLINT: the C ABI's definitions
using namespace cairn::api;  // NOLINT

extern "C" {

int cairn_pack_open(const uint8_t* manifest, size_t manifest_size, const uint8_t* signature,
                    size_t signature_size, const char* trusted_keys, cairn_pack** out,
                    char** out_summary) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(manifest, "manifest"));
    CAIRN_RETURN_IF_ERROR(Need(signature, "signature"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(
        cairn_pack * pack,
        OpenPack(std::string(reinterpret_cast<const char*>(manifest), manifest_size),
                 std::string(reinterpret_cast<const char*>(signature), signature_size),
                 trusted_keys));
    if (out_summary) *out_summary = CopyString(SummaryJson(pack->manifest).dump());
    *out = pack;
    return Status::Ok();
  });
}

void cairn_pack_close(cairn_pack* pack) { delete pack; }

int cairn_model_file_writer_open(cairn_vault* vault, const cairn_pack* pack,
                                 const char* file_name, cairn_model_file_writer** out) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(const model::ModelFile* file, PackFile(pack, file_name));
    CAIRN_RETURN_IF_ERROR(CheckLicenceHere(*vault->vault, pack->manifest));
    // One resumable write per file content: another version of the file starts afresh.
    const std::string key = "model:" + pack->manifest.id + "@" + pack->manifest.version + "/" +
                            file->name + "#" + file->blake2b;
    CAIRN_ASSIGN_OR_RETURN(storage::ResumedBlob resumed, vault->vault->ResumableBlob(key));
    // The blob writer's running BLAKE2b is checkpointed with it, so a resumed write goes on
    // with nothing of the caller's (older builds saved a verifier's state here: not needed).
    if (resumed.offset > file->size) {
      resumed.writer.Abandon();
      CAIRN_ASSIGN_OR_RETURN(resumed, vault->vault->ResumableBlob(key));
    }
    auto w = std::make_unique<cairn_model_file_writer>();
    w->file = *file;
    w->model_id = pack->manifest.id;
    w->blob.emplace(std::move(resumed.writer));
    *out = w.release();
    return Status::Ok();
  });
}

int cairn_model_file_writer_checkpoint(cairn_model_file_writer* writer) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(writer, "writer"));
    if (!writer->blob) return Status(StatusCode::kFailedPrecondition, "the writer has finished");
    return writer->blob->Checkpoint({}).status();
  });
}

double cairn_model_file_writer_offset(const cairn_model_file_writer* writer) {
  return writer && writer->blob ? static_cast<double>(writer->blob->size()) : 0;
}

int cairn_model_file_writer_append(cairn_model_file_writer* writer, const uint8_t* data,
                                   size_t size) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(writer, "writer"));
    if (!writer->blob) return Status(StatusCode::kFailedPrecondition, "the writer has finished");
    if (size == 0) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(Need(data, "data"));
    Status s = model::CheckFileGrowth(writer->file, writer->blob->size() + size);
    if (!s.ok()) {
      writer->blob->Abandon();  // removes what was written, checkpoints too
      writer->blob.reset();
      return s.WithContext("model " + writer->model_id);
    }
    return writer->blob->Append(ByteView(data, size));
  });
}

int cairn_model_file_writer_commit(cairn_model_file_writer* writer) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(writer, "writer"));
    if (!writer->blob) return Status(StatusCode::kFailedPrecondition, "the writer has finished");
    // The manifest's size, then its BLAKE2b: the blob writer hashed every byte as it stored it
    // (its content address), so that one hash is the check, and a mismatch keeps nothing.
    const model::ModelFile& f = writer->file;
    const auto refuse = [&](const Status& why) {
      return Status(StatusCode::kAuthFailed,
                    "model " + writer->model_id + ": " + why.message() +
                        " — the download does not match the signed manifest, so it was refused");
    };
    Status size = model::CheckFileSize(f, writer->blob->size());
    if (!size.ok()) {
      writer->blob->Abandon();
      writer->blob.reset();
      return refuse(size);
    }
    Result<std::string> hash = writer->blob->Commit(f.blake2b);
    writer->blob.reset();
    if (!hash.ok() && hash.status().code() == StatusCode::kAuthFailed) {
      return refuse(model::FileDigestMismatch(f));
    }
    return hash.status();
  });
}

void cairn_model_file_writer_close(cairn_model_file_writer* writer) { delete writer; }

int cairn_pack_install(cairn_vault* vault, const cairn_pack* pack) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(pack, "pack"));
    const model::Manifest& m = pack->manifest;
    storage::Vault& v = *vault->vault;
    int64_t bytes = 0;
    for (const model::ModelFile& f : m.files) {
      // Only the files that were downloaded: a device keeps the variants it uses.
      if (v.StatBlob(f.blake2b).ok()) {
        CAIRN_RETURN_IF_ERROR(v.RecordModelFile(m.id, f.name, f.blake2b));
        bytes += static_cast<int64_t>(f.size);
      }
    }
    CAIRN_RETURN_IF_ERROR(v.SetSetting(kSignatureSettingPrefix + m.id, pack->signature_bytes));
    storage::InstalledModel im;
    im.id = m.id;
    im.version = m.version;
    im.manifest_json = pack->manifest_bytes;
    im.licence_spdx = m.licence.spdx;
    im.commercial_use = m.licence.commercial_use;
    im.state = "installed";
    im.bytes = bytes;
    return v.PutModel(im);
  });
}

int cairn_models_list(cairn_vault* vault, char** out_models) {
  return ReturnJson(out_models, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::InstalledModel> models, vault->vault->ListModels());
    json out = json::array();
    for (const storage::InstalledModel& m : models) {
      // The task from the stored (signed, verified at install) manifest.
      const json manifest = json::parse(m.manifest_json, nullptr, /*allow_exceptions=*/false);
      const json* task = manifest.is_object() && manifest.contains("task") ? &manifest["task"] : nullptr;
      out.push_back({{"id", m.id},
                     {"version", m.version},
                     {"task", task && task->is_string() ? task->get<std::string>() : ""},
                     {"licence", m.licence_spdx},
                     {"commercial_use", m.commercial_use},
                     {"state", m.state},
                     {"bytes", m.bytes},
                     {"updated_at_ms", m.updated_at_ms}});
    }
    return out;
  });
}

int cairn_workspace_get(cairn_vault* vault, char** out_workspace) {
  return ReturnJson(out_workspace, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(model::Workspace w, WorkspaceOf(*vault->vault));
    return json{{"commercial", w.commercial}};
  });
}

int cairn_workspace_set(cairn_vault* vault, int commercial) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    return vault->vault->SetSetting(kWorkspaceCommercial, commercial ? "1" : "0");
  });
}

int cairn_pack_open_installed(cairn_vault* vault, const char* model_id, const char* trusted_keys,
                              cairn_pack** out, char** out_summary) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(model_id, "model_id"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::InstalledModel> models, vault->vault->ListModels());
    for (storage::InstalledModel& m : models) {
      if (m.id != model_id || m.state != "installed") continue;
      CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> sig,
                             vault->vault->GetSetting(kSignatureSettingPrefix + m.id));
      if (!sig) return Status(StatusCode::kCorruption, "model " + m.id + " has no stored signature");
      CAIRN_ASSIGN_OR_RETURN(cairn_pack * pack,
                             OpenPack(std::move(m.manifest_json), std::move(*sig), trusted_keys));
      if (Status s = CheckLicenceHere(*vault->vault, pack->manifest); !s.ok()) {
        cairn_pack_close(pack);
        return s;
      }
      if (out_summary) *out_summary = CopyString(SummaryJson(pack->manifest).dump());
      *out = pack;
      return Status::Ok();
    }
    return Status(StatusCode::kNotFound, "model " + std::string(model_id) + " is not installed");
  });
}

int cairn_pack_read_file(cairn_vault* vault, const cairn_pack* pack, const char* file_name,
                         uint8_t** out_data, size_t* out_size) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(out_data, "out_data"));
    CAIRN_RETURN_IF_ERROR(Need(out_size, "out_size"));
    CAIRN_ASSIGN_OR_RETURN(const model::ModelFile* f, PackFile(pack, file_name));
    // Content-addressed by the signed hash: ReadBlob authenticates every chunk and checks the
    // whole file hashes to it, so these bytes are the ones the manifest signed.
    Result<Bytes> data = vault->vault->ReadBlob(f->blake2b);
    if (!data.ok()) return data.status().WithContext("model " + pack->manifest.id + " file " + f->name);
    if (data->size() != f->size) {
      return Status(StatusCode::kAuthFailed, "model " + pack->manifest.id + " file " + f->name +
                                                 " has the wrong size");
    }
    uint8_t* p = static_cast<uint8_t*>(std::malloc(data->empty() ? 1 : data->size()));
    if (p == nullptr) return Status(StatusCode::kResourceExhausted, "out of memory");
    if (!data->empty()) std::memcpy(p, data->data(), data->size());
    *out_data = p;
    *out_size = data->size();
    return Status::Ok();
  });
}

int cairn_caption_model_create(cairn_vault* vault, const cairn_pack* pack, const char* variant,
                               int vocab_size, cairn_caption_model** out) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(variant, "variant"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_RETURN_IF_ERROR(Need(pack, "pack"));
    const model::Manifest& m = pack->manifest;
    if (m.task != "caption-lm") {
      return InvalidArgument("model " + m.id + " is a " + m.task + " model, not caption-lm");
    }
    const model::Variant* v = m.FindVariant(variant);
    if (v == nullptr) return Status(StatusCode::kNotFound, "model " + m.id + " has no variant " + variant);
    const model::ModelFile* file = m.FindFile(v->file);
    uint8_t* tok = nullptr;
    size_t tok_size = 0;
    if (int rc = cairn_pack_read_file(vault, pack, m.tokenizer_file.c_str(), &tok, &tok_size)) {
      return Status(static_cast<StatusCode>(rc), cairn_last_error_message());
    }
    const std::string tokenizer(reinterpret_cast<const char*>(tok), tok_size);
    std::free(tok);
    engine::ModelInfo info{m, variant, file ? file->blake2b : "", "device"};
    CAIRN_ASSIGN_OR_RETURN(engine::CaptionModel model,
                           engine::CaptionModel::CreateForHost(info, tokenizer, vocab_size));
    auto handle = std::make_unique<cairn_caption_model>();
    handle->model.emplace(std::move(model));
    *out = handle.release();
    return Status::Ok();
  });
}

void cairn_caption_model_close(cairn_caption_model* model) { delete model; }

int cairn_caption_start(cairn_caption_model* model, const char* request_json,
                        cairn_caption_session** out) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(model, "model"));
    CAIRN_RETURN_IF_ERROR(Need(request_json, "request_json"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    json j = json::parse(request_json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return InvalidArgument("a caption request must be a JSON object");
    engine::CaptionRequest req;
    CAIRN_ASSIGN_OR_RETURN(req.constraints, ParseConstraints(j, &req));
    CAIRN_ASSIGN_OR_RETURN(auto session, engine::CaptionSession::Start(*model->model, req));
    *out = new cairn_caption_session{std::move(session), {}};
    return Status::Ok();
  });
}

int cairn_caption_done(const cairn_caption_session* session) {
  return session == nullptr || session->session->done() ? 1 : 0;
}

int cairn_caption_next_feeds(cairn_caption_session* session, const int32_t** out_ids,
                             size_t* out_count, int64_t* out_past_length) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(session, "session"));
    CAIRN_RETURN_IF_ERROR(Need(out_ids, "out_ids"));
    CAIRN_RETURN_IF_ERROR(Need(out_count, "out_count"));
    CAIRN_RETURN_IF_ERROR(Need(out_past_length, "out_past_length"));
    if (session->session->done()) {
      return Status(StatusCode::kFailedPrecondition, "the caption session has finished");
    }
    const generation::Feeds f = session->session->NextFeeds();
    session->feeds.assign(f.input_ids.begin(), f.input_ids.end());
    *out_ids = session->feeds.data();
    *out_count = session->feeds.size();
    *out_past_length = f.past_length;
    return Status::Ok();
  });
}

int cairn_caption_consume(cairn_caption_session* session, float* logits, size_t count,
                          char** out_text) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(session, "session"));
    CAIRN_RETURN_IF_ERROR(Need(logits, "logits"));
    CAIRN_RETURN_IF_ERROR(Need(out_text, "out_text"));
    CAIRN_ASSIGN_OR_RETURN(std::string text,
                           session->session->Consume(std::span<float>(logits, count)));
    *out_text = CopyString(text);
    return Status::Ok();
  });
}

void cairn_caption_cancel(cairn_caption_session* session) {
  if (session != nullptr) session->session->Cancel();
}

int cairn_caption_finish(cairn_caption_session* session, const char* backend, char** out_result) {
  return ReturnJson(out_result, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(session, "session"));
    CAIRN_RETURN_IF_ERROR(Need(backend, "backend"));
    CAIRN_ASSIGN_OR_RETURN(engine::CaptionResult r, session->session->Finish(backend));
    return engine::CaptionResultJson(r);
  });
}

void cairn_caption_close(cairn_caption_session* session) { delete session; }

}  // extern "C"
