#include "core/base/status.h"

#include <cstdio>
#include <cstdlib>

namespace cairn {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kOutOfRange: return "out_of_range";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kAuthFailed: return "auth_failed";
    case StatusCode::kWrongPassphrase: return "wrong_passphrase";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
  if (code_ == StatusCode::kOk) message_.clear();
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s = StatusCodeName(code_);
  s += ": ";
  s += message_;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

void DieOnBadResultAccess(const Status& status) {
  std::fprintf(stderr, "cairn: value() called on an error Result: %s\n", status.ToString().c_str());
  std::abort();
}

#define CAIRN_DEFINE_STATUS_FACTORY_(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }

CAIRN_DEFINE_STATUS_FACTORY_(InvalidArgument, kInvalidArgument)
CAIRN_DEFINE_STATUS_FACTORY_(NotFound, kNotFound)
CAIRN_DEFINE_STATUS_FACTORY_(AlreadyExists, kAlreadyExists)
CAIRN_DEFINE_STATUS_FACTORY_(PermissionDenied, kPermissionDenied)
CAIRN_DEFINE_STATUS_FACTORY_(FailedPrecondition, kFailedPrecondition)
CAIRN_DEFINE_STATUS_FACTORY_(OutOfRange, kOutOfRange)
CAIRN_DEFINE_STATUS_FACTORY_(ResourceExhausted, kResourceExhausted)
CAIRN_DEFINE_STATUS_FACTORY_(Unavailable, kUnavailable)
CAIRN_DEFINE_STATUS_FACTORY_(Cancelled, kCancelled)
CAIRN_DEFINE_STATUS_FACTORY_(Corruption, kCorruption)
CAIRN_DEFINE_STATUS_FACTORY_(AuthFailed, kAuthFailed)
CAIRN_DEFINE_STATUS_FACTORY_(WrongPassphrase, kWrongPassphrase)
CAIRN_DEFINE_STATUS_FACTORY_(IoError, kIoError)
CAIRN_DEFINE_STATUS_FACTORY_(Unsupported, kUnsupported)
CAIRN_DEFINE_STATUS_FACTORY_(Internal, kInternal)

#undef CAIRN_DEFINE_STATUS_FACTORY_

}  // namespace cairn
