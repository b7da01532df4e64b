#pragma once

#include <string>

namespace smsd::test {

/// A `sqlite:` URL naming a file (not yet created) in a new temporary folder. Every folder made
/// this way is removed when the process exits.
std::string temp_sqlite_url();

/// The URL of a new, empty database on the PostgreSQL server named by SMSD_TEST_PG_URL
/// (e.g. postgresql://postgres@127.0.0.1:PORT/postgres). Every database made this way is dropped
/// when the process exits. Fails the running test when SMSD_TEST_PG_URL is not set: PostgreSQL
/// tests never skip silently; scripts/test.sh starts a server and sets the variable.
std::string fresh_postgres_url();

} // namespace smsd::test
