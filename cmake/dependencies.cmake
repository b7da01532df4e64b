# Debian 12 packages only. CAF 0.17.6 ships neither a CMake package nor a pkg-config file.
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PostgreSQL REQUIRED)

# Poco 1.11's DataPostgreSQL target names PostgreSQL::client, which nothing defines.
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client INTERFACE IMPORTED)
  set_target_properties(PostgreSQL::client PROPERTIES INTERFACE_LINK_LIBRARIES PostgreSQL::PostgreSQL)
endif()
find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Net NetSSL Util JSON Data DataSQLite DataPostgreSQL JWT Crypto)

find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES
  IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR})
