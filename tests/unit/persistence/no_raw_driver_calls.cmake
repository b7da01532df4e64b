# Fails when a source file under DIR talks to libpq or SQLite's C API itself instead of through
# Poco Data (docs/persistence.md): any libpq function (PQ...: called, or its address taken), any
# #include of libpq-fe.h, any sqlite3_... function or type but sqlite3_config (Poco has no way to
# set SQLite's global configuration). Comments are ignored.
#
#   cmake -DDIR=<folder> -P no_raw_driver_calls.cmake
cmake_minimum_required(VERSION 3.22)
if(NOT DIR OR NOT IS_DIRECTORY "${DIR}")
  message(FATAL_ERROR "usage: cmake -DDIR=<folder> -P no_raw_driver_calls.cmake")
endif()
set(allowed_sqlite3_calls sqlite3_config)

file(GLOB_RECURSE sources "${DIR}/*.cpp" "${DIR}/*.cc" "${DIR}/*.hpp" "${DIR}/*.h")
if(NOT sources)
  message(FATAL_ERROR "no sources under ${DIR}")
endif()
set(found "")
foreach(source ${sources})
  file(READ "${source}" text)
  # Comments out: block comments, then line comments.
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" text "${text}")
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")
  set(text "\n${text}")
  file(RELATIVE_PATH name "${DIR}" "${source}")

  if(text MATCHES "#[ \t]*include[ \t]*[<\"]libpq-fe\\.h")
    list(APPEND found "${name}: includes libpq-fe.h")
  endif()
  string(REGEX MATCHALL "[^A-Za-z0-9_]PQ[a-z][A-Za-z0-9_]*" calls "${text}")
  foreach(call ${calls})
    string(REGEX MATCH "PQ[A-Za-z0-9_]+" fn "${call}")
    list(APPEND found "${name}: uses libpq's ${fn}")
  endforeach()
  string(REGEX MATCHALL "[^A-Za-z0-9_]sqlite3_[A-Za-z0-9_]+" calls "${text}")
  foreach(call ${calls})
    string(REGEX MATCH "sqlite3_[A-Za-z0-9_]+" fn "${call}")
    if(NOT fn IN_LIST allowed_sqlite3_calls)
      list(APPEND found "${name}: uses SQLite's ${fn}")
    endif()
  endforeach()
endforeach()

if(found)
  list(REMOVE_DUPLICATES found)
  string(REPLACE ";" "\n  " found "${found}")
  message(FATAL_ERROR "raw database driver calls under ${DIR} (use Poco Data):\n  ${found}")
endif()
list(LENGTH sources n)
message(STATUS "${n} sources under ${DIR}: no raw driver calls")
