#include "storage/sqlite_util.h"

#include <catch_amalgamated.hpp>

namespace cairn::storage {
namespace {

struct MemDb {
  sqlite3* db = nullptr;
  MemDb() {
    REQUIRE(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
            SQLITE_OK);
    REQUIRE(Exec(db, "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)").ok());
  }
  ~MemDb() { sqlite3_close_v2(db); }
};

TEST_CASE("the statement cache compiles a statement once and hands it back reset") {
  MemDb m;
  StmtCache cache;
  for (int i = 0; i < 5; ++i) {
    Stmt q = cache.Get(m.db, "INSERT INTO t (k, v) VALUES (?, ?)").value();
    q.Bind(1, "k" + std::to_string(i)).Bind(2, int64_t{i});
    REQUIRE(q.Run().ok());
  }
  CHECK(cache.size() == 1);
  // A statement left mid-result is reset when handed back: the next use starts from row one.
  {
    Stmt q = cache.Get(m.db, "SELECT k FROM t ORDER BY v").value();
    REQUIRE(q.Step().value());
    CHECK(q.Text(0) == "k0");
    REQUIRE(q.Step().value());
  }
  {
    Stmt q = cache.Get(m.db, "SELECT k FROM t ORDER BY v").value();
    REQUIRE(q.Step().value());
    CHECK(q.Text(0) == "k0");
  }
  // Bindings are cleared: an unbound parameter is NULL, not the last call's value.
  {
    Stmt q = cache.Get(m.db, "SELECT count(*) FROM t WHERE v = ?").value();
    q.Bind(1, int64_t{3});
    REQUIRE(q.Step().value());
    CHECK(q.Int(0) == 1);
  }
  {
    Stmt q = cache.Get(m.db, "SELECT count(*) FROM t WHERE v = ?").value();
    REQUIRE(q.Step().value());
    CHECK(q.Int(0) == 0);
  }
  CHECK(cache.size() == 3);
}

TEST_CASE("a nested use of the same SQL gets its own statement") {
  MemDb m;
  REQUIRE(Exec(m.db, "INSERT INTO t VALUES ('a', 1), ('b', 2)").ok());
  StmtCache cache;
  const char* sql = "SELECT k FROM t WHERE v >= ? ORDER BY v";
  Stmt outer = cache.Get(m.db, sql).value();
  outer.Bind(1, int64_t{1});
  REQUIRE(outer.Step().value());
  CHECK(outer.Text(0) == "a");
  {
    Stmt inner = cache.Get(m.db, sql).value();
    inner.Bind(1, int64_t{2});
    REQUIRE(inner.Step().value());
    CHECK(inner.Text(0) == "b");
  }
  // The outer statement was not reset by the inner one.
  REQUIRE(outer.Step().value());
  CHECK(outer.Text(0) == "b");
  CHECK(cache.size() == 1);
}

TEST_CASE("a statement that does not compile is an error and is not kept") {
  MemDb m;
  StmtCache cache;
  Result<Stmt> bad = cache.Get(m.db, "SELEC nonsense");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Matchers::ContainsSubstring("syntax error"));
  CHECK(cache.size() == 0);
}

}  // namespace
}  // namespace cairn::storage
