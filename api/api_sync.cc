// The C ABI: the sync engine over the vault's outbox, with request signing by the device key.
#include <nlohmann/json.hpp>

#include "api/api_internal.h"
#include "core/base/bytes.h"
#include "core/crypto/random.h"
#include "core/crypto/sign.h"
#include "sync/engine.h"
#include "sync/protocol.h"
#include "sync/request_auth.h"
#include "sync/vault_outbox.h"

struct cairn_sync {
  cairn_vault* vault = nullptr;
  std::unique_ptr<cairn::sync::SyncEngine> engine;
  std::unique_ptr<cairn::sync::RequestSigner> signer;
};

namespace cairn::api {
namespace {

using nlohmann::json;

// The device key's seed, kept in the vault (encrypted at rest like everything there).
constexpr char kDeviceSeedSetting[] = "device.signing_seed";

Result<crypto::SigningKeyPair> DeviceKey(storage::Vault& vault) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored, vault.GetSetting(kDeviceSeedSetting));
  if (stored) {
    Result<Bytes> seed = FromHex(*stored);
    if (!seed.ok()) return seed.status().WithContext("the vault's device key");
    return crypto::SigningKeyPairFromSeed(*seed);
  }
  const Bytes seed = crypto::RandomBytes(crypto::kSignSeedBytes);
  CAIRN_RETURN_IF_ERROR(vault.SetSetting(kDeviceSeedSetting, ToHex(seed)));
  return crypto::SigningKeyPairFromSeed(seed);
}

json RequestJson(const sync::HttpRequest& r) {
  json headers = json::object();
  for (const auto& [k, v] : r.headers) headers[k] = v;
  return {{"method", r.method}, {"target", r.target}, {"headers", headers}, {"body", r.body}};
}

const char* NoticeName(sync::NoticeKind k) {
  switch (k) {
    case sync::NoticeKind::kDone: return "done";
    case sync::NoticeKind::kFailed: return "failed";
    case sync::NoticeKind::kCancelled: return "cancelled";
    case sync::NoticeKind::kCancelRefused: return "cancel_refused";
  }
  return "unknown";
}

Result<int64_t> IntField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) {
    return InvalidArgument(std::string("sync event field '") + name + "' must be a whole number");
  }
  return it->get<int64_t>();
}

Result<sync::Event> ParseEvent(const json& j, sync::VaultOutbox& outbox) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return InvalidArgument("a sync event is a JSON object with a \"type\"");
  }
  const std::string type = j["type"];
  if (type == "app_start") {
    sync::AppStart e;
    e.online = j.value("online", true);
    CAIRN_ASSIGN_OR_RETURN(e.jobs, outbox.Unfinished());
    return sync::Event(e);
  }
  if (type == "online") return sync::Event(sync::Online{});
  if (type == "offline") return sync::Event(sync::Offline{});
  if (type == "tick") return sync::Event(sync::Tick{});
  if (type == "job_created") {
    CAIRN_ASSIGN_OR_RETURN(int64_t id, IntField(j, "job_id"));
    CAIRN_ASSIGN_OR_RETURN(sync::OutboxRecord rec, outbox.Get(id));
    return sync::Event(sync::JobCreated{rec});
  }
  if (type == "cancel_requested") {
    CAIRN_ASSIGN_OR_RETURN(int64_t id, IntField(j, "job_id"));
    return sync::Event(sync::CancelRequested{id});
  }
  if (type == "response") {
    sync::Response e;
    CAIRN_ASSIGN_OR_RETURN(int64_t id, IntField(j, "request_id"));
    CAIRN_ASSIGN_OR_RETURN(int64_t status, IntField(j, "status"));
    e.request_id = static_cast<uint64_t>(id);
    e.response.status = static_cast<int>(status);
    if (j.contains("headers") && j["headers"].is_object()) {
      for (auto it = j["headers"].begin(); it != j["headers"].end(); ++it) {
        if (it->is_string()) e.response.headers.emplace_back(it.key(), it->get<std::string>());
      }
    }
    if (j.contains("body") && j["body"].is_string()) e.response.body = j["body"];
    return sync::Event(e);
  }
  if (type == "network_error") {
    CAIRN_ASSIGN_OR_RETURN(int64_t id, IntField(j, "request_id"));
    return sync::Event(sync::NetworkError{static_cast<uint64_t>(id), j.value("reason", "network error")});
  }
  return InvalidArgument("unknown sync event type '" + type + "'");
}

// Feeds `event` to the engine and carries out what it returns: Stores, SaveRenditions and
// SaveCaptionResults here (committed to the vault before anything after them), sends and
// uploads signed for the host. An upload whose blob cannot be read is answered at once
// (BlobUnreadable) and its outcome carried out in the same call.
Result<json> Run(cairn_sync& s, int64_t now, sync::Event event) {
  sync::VaultOutbox outbox(*s.vault->vault);
  json out = json::array();
  std::vector<sync::Event> events{std::move(event)};
  for (size_t e = 0; e < events.size(); ++e) {
    if (auto* r = std::get_if<sync::Response>(&events[e])) {
      s.signer->LearnServerTime(r->response, now);
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<sync::Instruction> instructions,
                           s.engine->Handle(now, events[e]));
    for (sync::Instruction& i : instructions) {
      if (auto* store = std::get_if<sync::Store>(&i)) {
        // Durable before anything after it is carried out.
        CAIRN_RETURN_IF_ERROR(outbox.Apply(*store));
      } else if (auto* send = std::get_if<sync::Send>(&i)) {
        CAIRN_RETURN_IF_ERROR(s.signer->Sign(send->request, now, sync::NewNonce()));
        json r = RequestJson(send->request);
        r["type"] = "send";
        r["request_id"] = send->request_id;
        out.push_back(std::move(r));
      } else if (auto* up = std::get_if<sync::UploadBlob>(&i)) {
        Result<Bytes> bytes = s.vault->vault->ReadBlob(up->hash);
        if (!bytes.ok()) {
          events.push_back(sync::BlobUnreadable{up->request_id, bytes.status().message()});
          continue;
        }
        // Signed over the bytes; the host reads them again (cairn_blob_read) to send them, so
        // they never cross as JSON.
        sync::HttpRequest req = sync::MakeBlobUploadRequest(
            std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
        CAIRN_RETURN_IF_ERROR(s.signer->Sign(req, now, sync::NewNonce()));
        req.body.clear();
        json r = RequestJson(req);
        r.erase("body");
        r["type"] = "send";
        r["request_id"] = up->request_id;
        r["body_blob"] = up->hash;
        out.push_back(std::move(r));
      } else if (auto* save = std::get_if<sync::SaveRendition>(&i)) {
        CAIRN_ASSIGN_OR_RETURN(int64_t asset, outbox.SaveRendition(*save));
        out.push_back({{"type", "rendition_saved"}, {"job_id", save->job_id},
                       {"asset_id", asset}, {"name", save->rendition.name}});
      } else if (auto* cap = std::get_if<sync::SaveCaptionResult>(&i)) {
        CAIRN_ASSIGN_OR_RETURN(int64_t asset, outbox.SaveCaptionResult(*cap));
        out.push_back({{"type", "caption_saved"}, {"job_id", cap->job_id}, {"asset_id", asset}});
      } else if (auto* wake = std::get_if<sync::WakeAt>(&i)) {
        out.push_back({{"type", "wake_at"}, {"at_ms", wake->at_ms}});
      } else if (auto* n = std::get_if<sync::Notify>(&i)) {
        out.push_back({{"type", "notify"}, {"job_id", n->job_id}, {"kind", NoticeName(n->kind)},
                       {"message", n->message}});
      }
    }
  }
  return out;
}

}  // namespace
}  // namespace cairn::api

using namespace cairn;       // NOLINT: the C ABI's definitions
using namespace cairn::api;  // NOLINT

extern "C" {

int cairn_sync_open(cairn_vault* vault, double seed, cairn_sync** out) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(crypto::SigningKeyPair key, DeviceKey(*vault->vault));
    // HQ captions finished before their results were kept as assets get theirs, once. A
    // failure never keeps the engine from starting: it is tried again at the next start.
    sync::VaultOutbox(*vault->vault).SaveEarlierCaptionResults().status().IgnoreError();
    auto s = std::make_unique<cairn_sync>();
    s->vault = vault;
    sync::EngineOptions options;
    options.seed = static_cast<uint64_t>(seed);
    s->engine = std::make_unique<sync::SyncEngine>(options);
    s->signer = std::make_unique<sync::RequestSigner>(std::move(key));
    *out = s.release();
    return Status::Ok();
  });
}

void cairn_sync_close(cairn_sync* sync) { delete sync; }

int cairn_sync_register_request(cairn_sync* s, double now_ms, char** out_request) {
  return ReturnJson(out_request, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(s, "sync"));
    sync::HttpRequest req = sync::MakeRegisterRequest(s->signer->public_key());
    CAIRN_RETURN_IF_ERROR(s->signer->Sign(req, static_cast<int64_t>(now_ms), sync::NewNonce()));
    return RequestJson(req);
  });
}

int cairn_sync_handle(cairn_sync* s, double now_ms, const char* event_json,
                      char** out_instructions) {
  return ReturnJson(out_instructions, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(s, "sync"));
    CAIRN_RETURN_IF_ERROR(Need(event_json, "event_json"));
    sync::VaultOutbox outbox(*s->vault->vault);
    json j = json::parse(event_json, nullptr, /*allow_exceptions=*/false);
    CAIRN_ASSIGN_OR_RETURN(sync::Event event, ParseEvent(j, outbox));
    return Run(*s, static_cast<int64_t>(now_ms), std::move(event));
  });
}

int cairn_sync_respond(cairn_sync* s, double now_ms, const char* response_json,
                       const uint8_t* body, size_t body_size, char** out_instructions) {
  return ReturnJson(out_instructions, [&]() -> Result<json> {
    CAIRN_RETURN_IF_ERROR(Need(s, "sync"));
    CAIRN_RETURN_IF_ERROR(Need(response_json, "response_json"));
    if (body_size > 0) CAIRN_RETURN_IF_ERROR(Need(body, "body"));
    json j = json::parse(response_json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return InvalidArgument("a sync response is a JSON object");
    j["type"] = "response";
    j.erase("body");
    sync::VaultOutbox outbox(*s->vault->vault);
    CAIRN_ASSIGN_OR_RETURN(sync::Event event, ParseEvent(j, outbox));
    std::get<sync::Response>(event).response.body.assign(reinterpret_cast<const char*>(body),
                                                         body_size);
    return Run(*s, static_cast<int64_t>(now_ms), std::move(event));
  });
}

}  // extern "C"
