// Protocol v1's body parsers (sync/protocol.h), both directions: the server parses what devices
// send, the device parses what a server (or a proxy, or an attacker on the network) answers.
// The first byte picks the parser.
//
// Oracles: whatever a parser accepts serializes and parses back to the same value (the wire
// format has one meaning per value); ParseError never fails, whatever the body.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sync/protocol.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::sync {
namespace {

bool SameJob(const JobView& a, const JobView& b) {
  return a.id == b.id && a.idempotency_key == b.idempotency_key && a.kind == b.kind &&
         a.preset == b.preset && a.state == b.state && a.seq == b.seq &&
         a.created_at_ms == b.created_at_ms && a.updated_at_ms == b.updated_at_ms &&
         a.error_code == b.error_code && a.error_message == b.error_message;
}

void Run(uint8_t which, const std::string& body) {
  switch (which % 8) {
    case 0: {
      Result<JobSubmission> s = ParseJobSubmission(body);
      if (!s.ok()) return;
      CAIRN_FUZZ_CHECK(CheckIdempotencyKey(s->idempotency_key).ok(), s->idempotency_key);
      Result<HttpRequest> again = MakeSubmitRequest(*s);
      CAIRN_FUZZ_CHECK(again.ok(), again.status().ToString());
      Result<JobSubmission> back = ParseJobSubmission(again->body);
      CAIRN_FUZZ_CHECK(back.ok(), back.status().ToString());
      CAIRN_FUZZ_CHECK(back->idempotency_key == s->idempotency_key && back->kind == s->kind &&
                           back->preset == s->preset,
                       again->body);
      return;
    }
    case 1: {
      Result<Bytes> key = ParseDeviceRegistration(body);
      if (key.ok()) CAIRN_FUZZ_CHECK(key->size() == 32, "public key size");
      return;
    }
    case 2: {
      Result<JobView> job = ParseJob(body);
      if (!job.ok()) return;
      Result<JobView> back = ParseJob(SerializeJob(*job));
      CAIRN_FUZZ_CHECK(back.ok() && SameJob(*job, *back), SerializeJob(*job));
      return;
    }
    case 3: {
      Result<DeviceView> device = ParseDevice(body);
      if (!device.ok()) return;
      Result<DeviceView> back = ParseDevice(SerializeDevice(*device));
      CAIRN_FUZZ_CHECK(back.ok() && back->id == device->id &&
                           back->public_key == device->public_key &&
                           back->registered_at_ms == device->registered_at_ms,
                       SerializeDevice(*device));
      return;
    }
    case 4: {
      Result<ChangesPage> page = ParseChanges(body);
      if (!page.ok()) return;
      Result<ChangesPage> back = ParseChanges(SerializeChanges(*page));
      CAIRN_FUZZ_CHECK(back.ok() && back->jobs.size() == page->jobs.size() &&
                           back->next_since == page->next_since && back->more == page->more,
                       SerializeChanges(*page));
      for (size_t i = 0; i < page->jobs.size(); ++i) {
        CAIRN_FUZZ_CHECK(SameJob(page->jobs[i], back->jobs[i]), "job " + std::to_string(i));
      }
      CAIRN_FUZZ_CHECK(back->expired.size() == page->expired.size(), SerializeChanges(*page));
      for (size_t i = 0; i < page->expired.size(); ++i) {
        const ExpiredView &a = page->expired[i], &b = back->expired[i];
        CAIRN_FUZZ_CHECK(a.id == b.id && a.idempotency_key == b.idempotency_key &&
                             a.seq == b.seq && a.expired_at_ms == b.expired_at_ms,
                         "expired " + std::to_string(i));
      }
      return;
    }
    case 5: {
      Result<JobResult> result = ParseResult(body);
      if (!result.ok()) return;
      Result<std::string> text = SerializeResult(*result);
      CAIRN_FUZZ_CHECK(text.ok(), text.status().ToString());
      Result<JobResult> back = ParseResult(*text);
      CAIRN_FUZZ_CHECK(back.ok() && back->id == result->id, *text);
      return;
    }
    case 6: {
      for (int status : {400, 401, 404, 429, 500, 502}) {
        ApiError e = ParseError(HttpResponse{status, {{"Content-Type", "application/json"}}, body});
        // The code picks what the device does; the message is shown to the user.
        CAIRN_FUZZ_CHECK(!e.code.empty() && e.code.size() <= 64, "ParseError code: " + e.code);
        for (char ch : e.code) {
          CAIRN_FUZZ_CHECK((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_',
                           "ParseError code: " + e.code);
        }
        CAIRN_FUZZ_CHECK(e.message.size() <= kMaxErrorMessageBytes, "ParseError message size");
      }
      return;
    }
    default:
      (void)CheckIdempotencyKey(body);
      return;
  }
}

}  // namespace
}  // namespace cairn::sync

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint8_t which = in.ConsumeIntegral<uint8_t>();
  cairn::sync::Run(which, in.ConsumeRemainingBytesAsString());
  return 0;
}
