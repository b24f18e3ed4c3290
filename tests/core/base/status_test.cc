#include "core/base/status.h"

#include <catch_amalgamated.hpp>

#include <memory>
#include <string>

namespace cairn {
namespace {

TEST_CASE("a default Status is OK and prints as ok") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == StatusCode::kOk);
  CHECK(s.ToString() == "ok");
}

TEST_CASE("an error Status carries its code, name and message") {
  Status s = AuthFailed("page 7: tag mismatch");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kAuthFailed);
  CHECK(s.ToString() == "auth_failed: page 7: tag mismatch");
  CHECK(s.WithContext("vault.db").message() == "vault.db: page 7: tag mismatch");
  CHECK(Status().WithContext("x").ok());
}

TEST_CASE("status codes keep their stable numbers and names") {
  // The C ABI and TypeScript depend on these numbers; a renumbering must fail here.
  CHECK(static_cast<int>(StatusCode::kInvalidArgument) == 1);
  CHECK(static_cast<int>(StatusCode::kCorruption) == 10);
  CHECK(static_cast<int>(StatusCode::kAuthFailed) == 11);
  CHECK(static_cast<int>(StatusCode::kWrongPassphrase) == 12);
  CHECK(static_cast<int>(StatusCode::kInternal) == 15);
  CHECK(std::string(StatusCodeName(StatusCode::kWrongPassphrase)) == "wrong_passphrase");
  CHECK(std::string(StatusCodeName(static_cast<StatusCode>(99))) == "unknown");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CAIRN_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckQuarter(int x) {
  CAIRN_RETURN_IF_ERROR(Quarter(x).status());
  return Status::Ok();
}

TEST_CASE("Result holds a value or an error and the macros propagate errors") {
  Result<int> ok = Quarter(12);
  REQUIRE(ok.ok());
  CHECK(*ok == 3);
  Result<int> bad = Quarter(6);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "odd: 3");
  CHECK(bad.value_or(-1) == -1);
  CHECK(CheckQuarter(8).ok());
  CHECK(CheckQuarter(10).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Result built from an OK status is an internal error, not a value") {
  Result<int> r{Status::Ok()};
  CHECK_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInternal);
}

TEST_CASE("Result works with move-only types") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

}  // namespace
}  // namespace cairn
