#include "core/runtime/pack_dir.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace cairn::runtime {

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

Status OpenError(const std::string& path) {
  const int e = errno;
  return Status(e == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                "cannot open " + path + ": " + std::strerror(e));
}

}  // namespace

Result<Bytes> ReadHostFile(const std::string& path, uint64_t max_bytes) {
  std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return OpenError(path);
  Bytes out;
  uint8_t buf[1 << 16];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      return Status(StatusCode::kOutOfRange,
                    path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  if (std::ferror(f.get())) return Status(StatusCode::kIoError, "cannot read " + path);
  return out;
}

ByteView LoadedPack::File(std::string_view name) const {
  auto it = files.find(std::string(name));
  return it == files.end() ? ByteView() : ByteView(it->second);
}

std::string_view LoadedPack::Text(std::string_view name) const {
  ByteView b = File(name);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

Result<LoadedPack> LoadPackDir(const std::string& dir, const model::TrustStore& trust,
                               const model::Workspace& workspace, std::string_view variant) {
  LoadedPack pack;
  pack.dir = dir;
  CAIRN_ASSIGN_OR_RETURN(Bytes manifest,
                         ReadHostFile(dir + "/manifest.json", model::kMaxManifestBytes));
  CAIRN_ASSIGN_OR_RETURN(Bytes sig, ReadHostFile(dir + "/manifest.sig", 4096));
  Result<model::Manifest> m = model::VerifyManifest(manifest, sig, trust);
  if (!m.ok()) return m.status().WithContext("model pack " + dir);
  pack.manifest = std::move(m).value();
  CAIRN_RETURN_IF_ERROR(model::CheckLicence(pack.manifest, workspace));
  const model::Variant* v = pack.manifest.FindVariant(variant);
  if (v == nullptr) {
    std::string names;
    for (const model::Variant& x : pack.manifest.variants) names += (names.empty() ? "" : ", ") + x.name;
    return Status(StatusCode::kNotFound, "model pack " + pack.manifest.id + " has no variant '" +
                                             std::string(variant) + "' (it has: " + names + ")");
  }
  pack.variant_name = v->name;
  std::vector<std::string> needed = {v->file};
  if (!pack.manifest.tokenizer_file.empty()) needed.push_back(pack.manifest.tokenizer_file);
  if (!pack.manifest.text_vocab.empty()) needed.push_back(pack.manifest.text_vocab);
  for (const std::string& name : needed) {
    const model::ModelFile* entry = pack.manifest.FindFile(name);
    if (entry == nullptr) {
      return Status(StatusCode::kCorruption, "model pack " + pack.manifest.id + ": '" + name +
                                                 "' is used but not listed in its files");
    }
    const std::string path = dir + "/" + name;
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) return OpenError(path);
    model::FileVerifier verifier(*entry);
    Bytes data;
    data.reserve(entry->size);
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
      const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
      if (n == 0) break;
      ByteView chunk(buf.data(), n);
      CAIRN_RETURN_IF_ERROR(verifier.Update(chunk).WithContext("model pack file " + path));
      data.insert(data.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    }
    if (std::ferror(f.get())) return Status(StatusCode::kIoError, "cannot read " + path);
    CAIRN_RETURN_IF_ERROR(verifier.Finish().WithContext("model pack file " + path));
    pack.files[name] = std::move(data);
  }
  return pack;
}

}  // namespace cairn::runtime
