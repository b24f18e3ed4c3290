// cairn-vault: inspect and recover a vault from the command line.
//
//   cairn-vault init DIR          create a vault (the directory must exist)
//   cairn-vault unlock DIR        check the passphrase; print a summary
//   cairn-vault list DIR          drafts, newest first
//   cairn-vault export DIR --plaintext   drafts with their history as JSON on stdout
//   cairn-vault check DIR         integrity check, every page's tag, every blob
//   cairn-vault passwd DIR        change the passphrase (no data re-encrypted)
//   cairn-vault rekey DIR         new database key; every page and blob re-encrypted
//   cairn-vault gc DIR            remove blobs nothing refers to
//
// The passphrase comes from $CAIRN_PASSPHRASE, else the first line of standard input; passwd
// takes the new one from $CAIRN_NEW_PASSPHRASE, else the next line. Exit status: 0 success,
// 1 failure (the message says what and where), 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/draft_json.h"
#include "storage/vault.h"

namespace cairn::storage {
namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: cairn-vault COMMAND DIR [--plaintext]\n"
               "commands: init unlock list export check passwd rekey gc\n"
               "passphrase: $CAIRN_PASSPHRASE or the first line of stdin; passwd also reads\n"
               "$CAIRN_NEW_PASSPHRASE or the next line\n");
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "cairn-vault: %s\n", s.ToString().c_str());
  return 1;
}

std::string Secret(const char* env) {
  if (const char* v = std::getenv(env)) return v;
  std::string line;
  std::getline(std::cin, line);
  return line;
}

int Export(Vault& v) {
  auto drafts = v.ListDrafts(1 << 30);
  if (!drafts.ok()) return Fail(drafts.status());
  nlohmann::json out = {{"format", "cairn-drafts-export"}, {"version", 1}, {"drafts", nlohmann::json::array()}};
  for (const Draft& d : *drafts) {
    nlohmann::json j = DraftJson(d);
    auto history = v.DraftHistory(d.id);
    if (!history.ok()) return Fail(history.status());
    j["history"] = nlohmann::json::array();
    for (const DraftVersion& h : *history) {
      nlohmann::json hj = DraftContentJson(h.content);
      hj["version"] = h.version;
      hj["saved_at_ms"] = h.saved_at_ms;
      j["history"].push_back(hj);
    }
    out["drafts"].push_back(j);
  }
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

int Check(Vault& v) {
  int problems = 0;
  auto integrity = v.IntegrityCheck();
  if (!integrity.ok()) {
    std::printf("database: %s\n", integrity.status().ToString().c_str());
    ++problems;
  } else if (*integrity != "ok") {
    std::printf("database: integrity_check:\n%s\n", integrity->c_str());
    ++problems;
  } else {
    std::printf("database: ok (integrity check passed; every page authenticated)\n");
  }
  auto blobs = v.ListBlobs();
  if (!blobs.ok()) return Fail(blobs.status());
  int good = 0;
  for (const BlobInfo& b : *blobs) {
    auto data = v.ReadBlob(b.hash);
    if (data.ok()) {
      ++good;
    } else {
      std::printf("blob %s: %s\n", b.hash.c_str(), data.status().ToString().c_str());
      ++problems;
    }
  }
  std::printf("blobs: %d of %zu ok\n", good, blobs->size());
  std::printf("%s\n", problems == 0 ? "vault ok" : "vault has problems");
  return problems == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string cmd = argv[1];
  const std::string dir = argv[2];
  bool plaintext = false;
  for (int i = 3; i < argc; ++i) {
    if (std::string(argv[i]) == "--plaintext") {
      plaintext = true;
    } else {
      std::fprintf(stderr, "cairn-vault: unknown option '%s'\n", argv[i]);
      return Usage();
    }
  }
  VaultOptions options;
  if (const char* kdf = std::getenv("CAIRN_TEST_FAST_KDF"); kdf && std::string(kdf) == "1") {
    options.kdf = crypto::Argon2idParams{1, 64 * 1024};  // tests only
  }
  const std::string pass = Secret("CAIRN_PASSPHRASE");
  if (cmd == "init") {
    auto v = Vault::Create(dir, pass, options);
    if (!v.ok()) return Fail(v.status());
    std::printf("created a vault in %s (schema %d)\n", dir.c_str(), (*v)->schema_version());
    return 0;
  }
  static const std::vector<std::string> kCommands = {"unlock", "list", "export", "check",
                                                     "passwd", "rekey", "gc"};
  if (std::find(kCommands.begin(), kCommands.end(), cmd) == kCommands.end()) {
    std::fprintf(stderr, "cairn-vault: unknown command '%s'\n", cmd.c_str());
    return Usage();
  }
  if (cmd == "export" && !plaintext) {
    std::fprintf(stderr,
                 "cairn-vault: export writes your drafts unencrypted; add --plaintext to confirm\n");
    return 2;
  }
  auto opened = Vault::Open(dir, pass, options);
  if (!opened.ok()) return Fail(opened.status());
  Vault& v = **opened;
  if (cmd == "unlock") {
    auto drafts = v.ListDrafts(1 << 30);
    auto blobs = v.ListBlobs();
    if (!drafts.ok()) return Fail(drafts.status());
    if (!blobs.ok()) return Fail(blobs.status());
    std::printf("unlocked %s: schema %d, %zu drafts, %zu blobs\n", dir.c_str(),
                v.schema_version(), drafts->size(), blobs->size());
    return 0;
  }
  if (cmd == "list") {
    auto drafts = v.ListDrafts(1 << 30);
    if (!drafts.ok()) return Fail(drafts.status());
    for (const Draft& d : *drafts) {
      std::string caption = d.content.caption.substr(0, 60);
      std::printf("%lld\tv%lld\t%s\t%s\n", static_cast<long long>(d.id),
                  static_cast<long long>(d.version), d.content.status.c_str(), caption.c_str());
    }
    return 0;
  }
  if (cmd == "export") return Export(v);
  if (cmd == "check") return Check(v);
  if (cmd == "passwd") {
    Status s = v.ChangePassphrase(pass, Secret("CAIRN_NEW_PASSPHRASE"));
    if (!s.ok()) return Fail(s);
    std::printf("passphrase changed\n");
    return 0;
  }
  if (cmd == "rekey") {
    Status s = v.Rekey(pass);
    if (!s.ok()) return Fail(s);
    std::printf("rekeyed: every page and blob is now under a new key\n");
    return 0;
  }
  auto removed = v.CollectGarbage();
  if (!removed.ok()) return Fail(removed.status());
  std::printf("removed %d unreferenced blobs\n", *removed);
  return 0;
}

}  // namespace
}  // namespace cairn::storage

int main(int argc, char** argv) { return cairn::storage::Main(argc, argv); }
