// The C ABI: errors, memory, the vault and drafts.
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "api/api_internal.h"
#include "core/crypto/aead.h"
#include "storage/draft_json.h"
#include "storage/key_file.h"

namespace cairn::api {
namespace {

thread_local int last_code = CAIRN_OK;
thread_local std::string last_message;

using nlohmann::json;
using storage::DraftJson;

storage::VaultOptions Options(const HostVfs& host) {
  storage::VaultOptions o;
  o.host_vfs = host.vfs;
  o.exclusive = host.exclusive;
  return o;
}

// Strict: a draft is {caption, hashtags, status?, prompt?: {task, context, style,
// output_format}}; an unknown field or a wrong type names itself.
Result<storage::DraftInput> ParseDraft(const char* text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("a draft must be a JSON object");
  storage::DraftInput d;
  auto str = [](const json& v, const char* name, std::string* out) -> Status {
    if (!v.is_string()) return InvalidArgument(std::string("draft field '") + name + "' must be a string");
    *out = v.get<std::string>();
    return Status::Ok();
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "caption") {
      CAIRN_RETURN_IF_ERROR(str(*it, "caption", &d.caption));
    } else if (k == "status") {
      CAIRN_RETURN_IF_ERROR(str(*it, "status", &d.status));
      if (d.status != "draft" && d.status != "ready" && d.status != "posted") {
        return InvalidArgument("draft status must be draft, ready or posted, not '" + d.status + "'");
      }
    } else if (k == "hashtags") {
      if (!it->is_array()) return InvalidArgument("draft field 'hashtags' must be an array");
      for (const json& h : *it) {
        std::string tag;
        CAIRN_RETURN_IF_ERROR(str(h, "hashtags[]", &tag));
        d.hashtags.push_back(std::move(tag));
      }
    } else if (k == "prompt") {
      if (!it->is_object()) return InvalidArgument("draft field 'prompt' must be an object");
      for (auto p = it->begin(); p != it->end(); ++p) {
        std::string* out = p.key() == "task"            ? &d.prompt.task
                           : p.key() == "context"       ? &d.prompt.context
                           : p.key() == "style"         ? &d.prompt.style
                           : p.key() == "output_format" ? &d.prompt.output_format
                                                        : nullptr;
        if (out == nullptr) return InvalidArgument("unknown prompt field '" + p.key() + "'");
        CAIRN_RETURN_IF_ERROR(str(*p, p.key().c_str(), out));
      }
    } else {
      return InvalidArgument("unknown draft field '" + k + "'");
    }
  }
  return d;
}

json JobJson(const storage::OutboxJob& j) {
  json payload = json::parse(j.payload_json, nullptr, /*allow_exceptions=*/false);
  json result = j.result_json.empty()
                    ? json(nullptr)
                    : json::parse(j.result_json, nullptr, /*allow_exceptions=*/false);
  return {{"id", j.id},
          {"kind", j.kind},
          {"preset", j.preset},
          {"state", j.state},
          {"idempotency_key", j.idempotency_key},
          {"attempts", j.attempts},
          {"last_error", j.last_error},
          {"server_job_id", j.server_job_id},
          {"created_at_ms", j.created_at_ms},
          {"updated_at_ms", j.updated_at_ms},
          {"payload", payload.is_discarded() ? json(nullptr) : payload},
          {"result", result.is_discarded() ? json(nullptr) : result},
          {"draft_id", j.draft_id ? json(*j.draft_id) : json(nullptr)}};
}

// A device key is exactly an AEAD key's size: anything else is a host bug, said as such
// rather than reported as a key that does not fit the vault.
Status NeedDeviceKey(const uint8_t* key, size_t size) {
  CAIRN_RETURN_IF_ERROR(Need(key, "key"));
  if (size != crypto::kAeadKeyBytes) {
    return InvalidArgument("a device key has " + std::to_string(crypto::kAeadKeyBytes) +
                           " bytes, not " + std::to_string(size));
  }
  return Status::Ok();
}

// The four ways into a vault (create or open, by passphrase or device key) share their checks:
// `check` validates the secret's argument, `unlock` creates or opens with the host's options.
template <typename Check, typename Unlock>
int UnlockVault(const char* dir, bool create, cairn_vault** out, Check check, Unlock unlock) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(dir, "dir"));
    CAIRN_RETURN_IF_ERROR(check());
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(HostVfs host, GetHostVfs());
    if (create) CAIRN_RETURN_IF_ERROR(PrepareVaultDir(dir));
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<storage::Vault> v, unlock(Options(host)));
    *out = new cairn_vault{std::move(v)};
    return Status::Ok();
  });
}

Status CheckPassphrase(const char* passphrase, bool create) {
  CAIRN_RETURN_IF_ERROR(Need(passphrase, "passphrase"));
  if (create && std::strlen(passphrase) < 8) {
    return InvalidArgument("the passphrase must have at least 8 characters");
  }
  return Status::Ok();
}

}  // namespace

int Fail(const Status& s) {
  if (s.ok()) return Ok();
  last_code = static_cast<int>(s.code());
  last_message = s.message();
  return last_code;
}

int Ok() { return CAIRN_OK; }

char* CopyString(std::string_view text) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return nullptr;
  std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  return p;
}

Status Need(const void* p, const char* what) {
  if (p == nullptr) return InvalidArgument(std::string(what) + " is NULL");
  return Status::Ok();
}

}  // namespace cairn::api

using namespace cairn;        // NOLINT: the C ABI's definitions
using namespace cairn::api;   // NOLINT

extern "C" {

int cairn_abi_version(void) { return CAIRN_ABI_VERSION; }
int cairn_last_error_code(void) { return last_code; }
const char* cairn_last_error_message(void) { return last_message.c_str(); }
void* cairn_malloc(size_t bytes) { return std::malloc(bytes); }
void cairn_free(void* p) { std::free(p); }

int cairn_vault_exists(const char* dir, int* out_exists) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(dir, "dir"));
    CAIRN_RETURN_IF_ERROR(Need(out_exists, "out_exists"));
    CAIRN_ASSIGN_OR_RETURN(HostVfs host, GetHostVfs());
    sqlite3_vfs* vfs = host.vfs ? host.vfs : sqlite3_vfs_find(nullptr);
    const std::string key = storage::VaultKeyPath(dir);
    int found = 0;
    if (vfs->xAccess(vfs, key.c_str(), SQLITE_ACCESS_EXISTS, &found) != SQLITE_OK) {
      return Status(StatusCode::kIoError, "could not look for " + key);
    }
    *out_exists = found ? 1 : 0;
    return Status::Ok();
  });
}

int cairn_vault_create(const char* dir, const char* passphrase, cairn_vault** out) {
  return UnlockVault(
      dir, true, out, [&] { return CheckPassphrase(passphrase, true); },
      [&](const storage::VaultOptions& o) { return storage::Vault::Create(dir, passphrase, o); });
}

int cairn_vault_open(const char* dir, const char* passphrase, cairn_vault** out) {
  return UnlockVault(
      dir, false, out, [&] { return CheckPassphrase(passphrase, false); },
      [&](const storage::VaultOptions& o) { return storage::Vault::Open(dir, passphrase, o); });
}

int cairn_vault_create_with_device_key(const char* dir, const uint8_t* key, size_t key_size,
                                       cairn_vault** out) {
  return UnlockVault(
      dir, true, out, [&] { return NeedDeviceKey(key, key_size); },
      [&](const storage::VaultOptions& o) {
        return storage::Vault::CreateWithDeviceKey(dir, ByteView(key, key_size), o);
      });
}

int cairn_vault_open_with_device_key(const char* dir, const uint8_t* key, size_t key_size,
                                     cairn_vault** out) {
  return UnlockVault(
      dir, false, out, [&] { return NeedDeviceKey(key, key_size); },
      [&](const storage::VaultOptions& o) {
        return storage::Vault::OpenWithDeviceKey(dir, ByteView(key, key_size), o);
      });
}

int cairn_vault_unlock_kinds(const char* dir, char** out_kinds) {
  return ReturnJson(out_kinds, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(dir, "dir"));
    CAIRN_ASSIGN_OR_RETURN(HostVfs host, GetHostVfs());
    sqlite3_vfs* vfs = host.vfs ? host.vfs : sqlite3_vfs_find(nullptr);
    Result<storage::KeyFileContents> keys = storage::ReadKeyFile(vfs, storage::VaultKeyPath(dir));
    if (keys.status().code() == StatusCode::kNotFound) {
      return NotFound(std::string("no vault in ") + dir);
    }
    CAIRN_RETURN_IF_ERROR(keys.status());
    return json{{"passphrase", !keys->passphrase_wrapped.empty()},
                {"device_key", !keys->device_wrapped.empty()}};
  });
}

void cairn_vault_close(cairn_vault* vault) { delete vault; }

int cairn_vault_check(cairn_vault* vault, char** out_report) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(out_report, "out_report"));
    CAIRN_ASSIGN_OR_RETURN(std::string report, vault->vault->IntegrityCheck());
    *out_report = CopyString(report);
    return Status::Ok();
  });
}

int cairn_draft_save(cairn_vault* vault, int64_t id, const char* draft_json, char** out_draft) {
  return ReturnJson(out_draft, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(draft_json, "draft_json"));
    CAIRN_ASSIGN_OR_RETURN(storage::DraftInput d, ParseDraft(draft_json));
    if (id == 0) {
      CAIRN_ASSIGN_OR_RETURN(id, vault->vault->CreateDraft(d));
    } else {
      CAIRN_RETURN_IF_ERROR(vault->vault->UpdateDraft(id, d));
    }
    CAIRN_ASSIGN_OR_RETURN(storage::Draft saved, vault->vault->GetDraft(id));
    return DraftJson(saved);
  });
}

int cairn_draft_get(cairn_vault* vault, int64_t id, char** out_draft) {
  return ReturnJson(out_draft, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(storage::Draft d, vault->vault->GetDraft(id));
    return DraftJson(d);
  });
}

int cairn_drafts_list(cairn_vault* vault, int limit, int offset, char** out_drafts) {
  return ReturnJson(out_drafts, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::Draft> drafts,
                           vault->vault->ListDrafts(limit, offset));
    json out = json::array();
    for (const storage::Draft& d : drafts) out.push_back(DraftJson(d));
    return out;
  });
}

int cairn_drafts_search(cairn_vault* vault, const char* query, int limit, char** out_hits) {
  return ReturnJson(out_hits, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(query, "query"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::SearchHit> hits,
                           vault->vault->SearchDrafts(query, limit));
    json out = json::array();
    for (const storage::SearchHit& h : hits) {
      out.push_back({{"draft_id", h.draft_id},
                     {"score", h.score},
                     {"snippet", h.snippet},
                     {"match", h.match}});
    }
    return out;
  });
}

int cairn_job_enqueue(cairn_vault* vault, const char* kind, const char* preset,
                      const char* payload_json, int64_t draft_id, char** out_job) {
  return ReturnJson(out_job, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(kind, "kind"));
    CAIRN_RETURN_IF_ERROR(Need(preset, "preset"));
    CAIRN_RETURN_IF_ERROR(Need(payload_json, "payload_json"));
    const std::string_view k = kind, p = preset;
    if (k != "caption-hq" && k != "image-export") {
      return InvalidArgument("job kind must be caption-hq or image-export, not '" + std::string(k) + "'");
    }
    if (p != "low" && p != "preview" && p != "final") {
      return InvalidArgument("preset must be low, preview or final, not '" + std::string(p) + "'");
    }
    if (!json::parse(payload_json, nullptr, /*allow_exceptions=*/false).is_object()) {
      return InvalidArgument("a job payload must be a JSON object");
    }
    std::optional<int64_t> from;
    if (draft_id != 0) {
      // Said plainly here rather than as the foreign key's "constraint failed".
      CAIRN_RETURN_IF_ERROR(vault->vault->GetDraft(draft_id).status());
      from = draft_id;
    }
    CAIRN_ASSIGN_OR_RETURN(storage::OutboxJob job,
                           vault->vault->EnqueueJob(k, p, payload_json, from));
    return JobJson(job);
  });
}

int cairn_jobs_list(cairn_vault* vault, char** out_jobs) {
  return ReturnJson(out_jobs, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::OutboxJob> jobs, vault->vault->ListJobs());
    json out = json::array();
    for (const storage::OutboxJob& j : jobs) out.push_back(JobJson(j));
    return out;
  });
}

}  // extern "C"
