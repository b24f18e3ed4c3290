// Status and Result<T>: how every Cairn function reports failure.
//
// A Status is OK or carries a code and a message that names what is wrong (the file, page,
// field or job) and, where it can, what the user can do. Codes are stable integers: the C ABI
// returns them and TypeScript sees them as generated constants, so never renumber one.
//
// Result<T> holds a value or a non-OK Status. Both are [[nodiscard]]: ignoring an error is a
// compile warning (an error with -Werror).
//
//   Result<Bytes> r = ReadAll(path);
//   if (!r.ok()) return r.status();
//   Use(*r);
//
// No exceptions cross module boundaries; code that calls a throwing library catches at the
// wrapper and returns a Status.
#ifndef CAIRN_CORE_BASE_STATUS_H_
#define CAIRN_CORE_BASE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cairn {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the caller passed something malformed
  kNotFound = 2,            // a named thing does not exist
  kAlreadyExists = 3,       // a named thing exists and must not
  kPermissionDenied = 4,    // policy refuses (licence, another device's job)
  kFailedPrecondition = 5,  // the state does not allow this now (locked vault, wrong state)
  kOutOfRange = 6,          // a value or offset beyond its limit
  kResourceExhausted = 7,   // out of memory, disk full, quota, rate limit
  kUnavailable = 8,         // transient: the network, a busy resource; retry may work
  kCancelled = 9,           // the caller cancelled
  kCorruption = 10,         // stored data is damaged (bad format, checksum)
  kAuthFailed = 11,         // a MAC, tag or signature did not verify: tampered or wrong key
  kWrongPassphrase = 12,    // the passphrase does not unlock this vault
  kIoError = 13,            // the OS or host refused an I/O operation
  kUnsupported = 14,        // a format version or feature this build does not have
  kInternal = 15,           // a bug: an invariant broke
};

// The stable name of a code, e.g. "auth_failed". Never null.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "auth_failed: aead open: ..." ; "ok" for OK.
  std::string ToString() const;

  // The same error with "context: " put before its message (OK stays OK).
  Status WithContext(std::string_view context) const;

  // Explicitly drop a status where ignoring it is right (e.g. best-effort cleanup).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status PermissionDenied(std::string message);
Status FailedPrecondition(std::string message);
Status OutOfRange(std::string message);
Status ResourceExhausted(std::string message);
Status Unavailable(std::string message);
Status Cancelled(std::string message);
Status Corruption(std::string message);
Status AuthFailed(std::string message);
Status WrongPassphrase(std::string message);
Status IoError(std::string message);
Status Unsupported(std::string message);
Status Internal(std::string message);

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value or from a non-OK status, so `return value;` and `return status;`
  // both work. Constructing from an OK status is a bug and becomes kInternal.
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // Precondition: ok(). Checked: calling these on an error aborts with the error's text.
  T& value() & { CheckOk(); return *value_; }
  const T& value() const& { CheckOk(); return *value_; }
  // By value from an rvalue, so `for (auto& x : F().value())` cannot dangle.
  T value() && { CheckOk(); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  void CheckOk() const;

  std::optional<T> value_;
  Status status_;
};

[[noreturn]] void DieOnBadResultAccess(const Status& status);

template <typename T>
void Result<T>::CheckOk() const {
  if (!value_.has_value()) DieOnBadResultAccess(status_);
}

}  // namespace cairn

#define CAIRN_STATUS_CONCAT_INNER_(a, b) a##b
#define CAIRN_STATUS_CONCAT_(a, b) CAIRN_STATUS_CONCAT_INNER_(a, b)

// Return the status from the enclosing function if `expr` is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    ::cairn::Status cairn_status_tmp_ = (expr);       \
    if (!cairn_status_tmp_.ok()) return cairn_status_tmp_; \
  } while (0)

// `CAIRN_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its error.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_result_, __LINE__), lhs, expr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // CAIRN_CORE_BASE_STATUS_H_
