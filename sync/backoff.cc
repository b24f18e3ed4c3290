#include "sync/backoff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace cairn::sync {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> Number(std::string_view s) {
  if (!AllDigits(s) || s.size() > 4) return std::nullopt;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" -> unix milliseconds.
std::optional<int64_t> ParseImfFixdate(std::string_view s) {
  static constexpr std::array<const char*, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
      s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' || s.substr(26) != "GMT") {
    return std::nullopt;
  }
  auto day = Number(s.substr(5, 2));
  auto year = Number(s.substr(12, 4));
  auto hh = Number(s.substr(17, 2));
  auto mm = Number(s.substr(20, 2));
  auto ss = Number(s.substr(23, 2));
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  if (!day || !year || !hh || !mm || !ss || month == 0 || *day < 1 || *day > 31 || *hh > 23 ||
      *mm > 59 || *ss > 60) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(*year, month, static_cast<unsigned>(*day));
  return ((days * 24 + *hh) * 60 + *mm) * 60'000 + int64_t{*ss} * 1000;
}

}  // namespace

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t Rng::Uniform(int64_t bound) {
  if (bound <= 0) return 0;
  // Modulo bias is below 2^-40 for the bounds used here (at most hours in milliseconds).
  return static_cast<int64_t>(Next() % (static_cast<uint64_t>(bound) + 1));
}

bool Rng::Chance(double p) {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
}

int64_t BackoffPolicy::CeilingMs(int64_t failures) const {
  if (failures < 1) failures = 1;
  int64_t ceiling = base_ms;
  for (int64_t i = 1; i < failures && ceiling < cap_ms; ++i) ceiling *= 2;
  return std::min(ceiling, cap_ms);
}

int64_t BackoffPolicy::DelayMs(int64_t failures, Rng& rng) const {
  return rng.Uniform(CeilingMs(failures));
}

std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_unix_ms) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (AllDigits(value)) {
    if (value.size() > 9) return kMaxRetryAfterMs;  // more than 31 years of seconds
    int64_t seconds = 0;
    for (char c : value) seconds = seconds * 10 + (c - '0');
    return std::min(seconds * 1000, kMaxRetryAfterMs);
  }
  if (auto at = ParseImfFixdate(value)) {
    return std::clamp<int64_t>(*at - now_unix_ms, 0, kMaxRetryAfterMs);
  }
  return std::nullopt;
}

}  // namespace cairn::sync
