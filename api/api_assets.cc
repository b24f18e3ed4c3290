// The C ABI: assets (photos, renders, HQ caption results) with provenance and details, their
// deletion, and blob reads.
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "api/api_internal.h"

namespace cairn::api {
namespace {

using nlohmann::json;

json AssetJson(const storage::Asset& a) {
  const Provenance& p = a.content.provenance;
  json details = json::parse(a.content.details, nullptr, /*allow_exceptions=*/false);
  return {{"id", a.id},
          {"kind", a.content.kind},
          {"mime", a.content.mime},
          {"blob_hash", a.content.blob_hash},
          {"bytes", a.content.bytes},
          {"width", a.content.width},
          {"height", a.content.height},
          {"draft_id", a.content.draft_id ? json(*a.content.draft_id) : json(nullptr)},
          {"job_id", a.content.job_id ? json(*a.content.job_id) : json(nullptr)},
          {"created_at_ms", a.created_at_ms},
          {"provenance",
           {{"model_id", p.model_id},
            {"model_version", p.model_version},
            {"model_checksum", p.model_checksum},
            {"quantization", p.quantization},
            {"backend", p.backend},
            {"tier", p.tier},
            {"preset", p.preset},
            {"prompt_schema", p.prompt_schema},
            {"seed", p.seed}}},
          {"details", details.is_object() ? details : json::object()}};
}

Status StringField(const json& v, const std::string& name, std::string* out) {
  if (!v.is_string()) return InvalidArgument("asset field '" + name + "' must be a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

Status IntField(const json& v, const std::string& name, int64_t lo, int64_t hi, int64_t* out) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    return InvalidArgument("asset field '" + name + "' must be a whole number from " +
                           std::to_string(lo) + " to " + std::to_string(hi));
  }
  *out = v.get<int64_t>();
  return Status::Ok();
}

// Strict, like drafts: an unknown field or a wrong type names itself.
Result<storage::AssetInput> ParseAsset(const char* text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("an asset must be a JSON object");
  storage::AssetInput a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    int64_t n = 0;
    if (k == "kind") {
      CAIRN_RETURN_IF_ERROR(StringField(*it, k, &a.kind));
    } else if (k == "mime") {
      CAIRN_RETURN_IF_ERROR(StringField(*it, k, &a.mime));
    } else if (k == "width" || k == "height") {
      CAIRN_RETURN_IF_ERROR(IntField(*it, k, 0, 1 << 20, &n));
      (k == "width" ? a.width : a.height) = static_cast<int>(n);
    } else if (k == "draft_id") {
      if (!it->is_null()) {
        CAIRN_RETURN_IF_ERROR(IntField(*it, k, 1, INT64_MAX, &n));
        a.draft_id = n;
      }
    } else if (k == "details") {
      if (!it->is_object()) return InvalidArgument("asset field 'details' must be an object");
      a.details = it->dump();
    } else if (k == "provenance") {
      if (!it->is_object()) return InvalidArgument("asset field 'provenance' must be an object");
      Provenance& p = a.provenance;
      for (auto f = it->begin(); f != it->end(); ++f) {
        const std::string name = "provenance." + f.key();
        std::string* out = f.key() == "model_id"         ? &p.model_id
                           : f.key() == "model_version"  ? &p.model_version
                           : f.key() == "model_checksum" ? &p.model_checksum
                           : f.key() == "quantization"   ? &p.quantization
                           : f.key() == "backend"        ? &p.backend
                           : f.key() == "tier"           ? &p.tier
                           : f.key() == "preset"         ? &p.preset
                           : f.key() == "prompt_schema"  ? &p.prompt_schema
                                                         : nullptr;
        if (f.key() == "seed") {
          CAIRN_RETURN_IF_ERROR(IntField(*f, name, 0, INT64_MAX, &n));
          p.seed = static_cast<uint64_t>(n);
        } else if (out == nullptr) {
          return InvalidArgument("unknown asset field '" + name + "'");
        } else {
          CAIRN_RETURN_IF_ERROR(StringField(*f, name, out));
        }
      }
    } else {
      return InvalidArgument("unknown asset field '" + k + "'");
    }
  }
  if (a.mime.rfind("image/", 0) != 0) return InvalidArgument("asset field 'mime' must be image/*");
  return a;
}

}  // namespace
}  // namespace cairn::api

using namespace cairn;        // NOLINT: the C ABI's definitions
using namespace cairn::api;   // NOLINT

extern "C" {

int cairn_asset_add(cairn_vault* vault, const char* asset_json, const uint8_t* data, size_t size,
                    char** out_asset) {
  return ReturnJson(out_asset, [&]() -> Result<nlohmann::json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(asset_json, "asset_json"));
    CAIRN_RETURN_IF_ERROR(Need(data, "data"));
    if (size == 0) return InvalidArgument("an asset has at least one byte");
    CAIRN_ASSIGN_OR_RETURN(storage::AssetInput a, ParseAsset(asset_json));
    if (a.draft_id) CAIRN_RETURN_IF_ERROR(vault->vault->GetDraft(*a.draft_id).status());
    // The bytes first: an asset row never names a blob that is not there.
    CAIRN_ASSIGN_OR_RETURN(a.blob_hash, vault->vault->PutBlob(ByteView(data, size)));
    a.bytes = static_cast<int64_t>(size);
    CAIRN_ASSIGN_OR_RETURN(int64_t id, vault->vault->AddAsset(a));
    CAIRN_ASSIGN_OR_RETURN(storage::Asset saved, vault->vault->GetAsset(id));
    return AssetJson(saved);
  });
}

int cairn_assets_list(cairn_vault* vault, const char* kind, int limit, int offset,
                      char** out_assets) {
  return ReturnJson(out_assets, [&]() -> Result<nlohmann::json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(std::vector<storage::Asset> assets,
                           vault->vault->ListAssets(kind ? kind : "", limit, offset));
    nlohmann::json out = nlohmann::json::array();
    for (const storage::Asset& a : assets) out.push_back(AssetJson(a));
    return out;
  });
}

int cairn_asset_delete(cairn_vault* vault, int64_t id, char** out_report) {
  return ReturnJson(out_report, [&]() -> Result<nlohmann::json> {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_ASSIGN_OR_RETURN(storage::Asset asset, vault->vault->GetAsset(id));
    CAIRN_RETURN_IF_ERROR(vault->vault->DeleteAsset(id));
    // The row is gone (committed); its blob goes with the vault's garbage collection unless
    // something else still refers to it: an export not yet sent keeps its source photo, and the
    // report says so. A failed collection leaves garbage, never a loss: it is collected next
    // time.
    Result<int> removed = vault->vault->CollectGarbage();
    Result<int> exports = vault->vault->UnfinishedExportsUsing(asset.content.blob_hash);
    return nlohmann::json{{"id", id},
                          {"blobs_removed", removed.ok() ? *removed : 0},
                          {"kept_for_exports", exports.ok() ? *exports : 0}};
  });
}

int cairn_blob_read(cairn_vault* vault, const char* hash, uint8_t** out_data, size_t* out_size) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(vault, "vault"));
    CAIRN_RETURN_IF_ERROR(Need(hash, "hash"));
    CAIRN_RETURN_IF_ERROR(Need(out_data, "out_data"));
    CAIRN_RETURN_IF_ERROR(Need(out_size, "out_size"));
    CAIRN_ASSIGN_OR_RETURN(Bytes bytes, vault->vault->ReadBlob(hash));
    auto* p = static_cast<uint8_t*>(std::malloc(bytes.empty() ? 1 : bytes.size()));
    if (p == nullptr) return Status(StatusCode::kResourceExhausted, "out of memory");
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    *out_data = p;
    *out_size = bytes.size();
    return Status::Ok();
  });
}

}  // extern "C"
