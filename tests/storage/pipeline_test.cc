#include <catch_amalgamated.hpp>

#include <thread>
#include <vector>

#include "storage/pipeline.h"

namespace cairn::storage {
namespace {

TEST_CASE("pipeline stages run one at a time, in order, and finish before Wait returns") {
  std::vector<int> order;
  {
    Pipeline p;
    for (int i = 0; i < 100; ++i) p.Run([&order, i] { order.push_back(i); });
    p.Wait();
    REQUIRE(order.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(order[i] == i);
    p.Run([&order] { order.push_back(100); });
  }  // the destructor waits for the running stage
  CHECK(order.size() == 101);
}

TEST_CASE("pipeline stages run on another thread exactly where the build has threads") {
  Pipeline p;
  std::thread::id ran_on;
  p.Run([&ran_on] { ran_on = std::this_thread::get_id(); });
  p.Wait();
  CHECK((ran_on != std::this_thread::get_id()) == Pipeline::Concurrent());
  Pipeline idle;
  idle.Wait();  // nothing ran: returns at once
}

}  // namespace
}  // namespace cairn::storage
