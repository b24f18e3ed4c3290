// Picking the sync engine's instructions out of what one event returned, for the engine tests:
//
//   auto out = engine.OnResponse(...);
//   SendRequest send = One<SendRequest>(out);   // exactly one, or the test fails
//   CHECK(All<Notify>(out).empty());
#ifndef CAIRN_TESTS_SYNC_INSTRUCTIONS_H_
#define CAIRN_TESTS_SYNC_INSTRUCTIONS_H_

#include <catch_amalgamated.hpp>
#include <variant>
#include <vector>

#include "sync/engine.h"

namespace cairn::sync {

template <typename T>
std::vector<T> All(const std::vector<Instruction>& out) {
  std::vector<T> v;
  for (const Instruction& i : out) {
    if (auto* x = std::get_if<T>(&i)) v.push_back(*x);
  }
  return v;
}

template <typename T>
T One(const std::vector<Instruction>& out) {
  std::vector<T> v = All<T>(out);
  REQUIRE(v.size() == 1);
  return v[0];
}

}  // namespace cairn::sync

#endif  // CAIRN_TESTS_SYNC_INSTRUCTIONS_H_
