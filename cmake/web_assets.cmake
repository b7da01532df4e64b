# The organizer page (web/) is compiled into smsd: cmake/embed_web.cmake writes its files into a
# generated source of smsd_http at build time, so smsd stays one file and needs no web/ folder
# at run time. Editing a file of web/ regenerates the source; adding or removing one re-runs
# the configure step first (CONFIGURE_DEPENDS).
include(${CMAKE_CURRENT_LIST_DIR}/web_files.cmake)
file(GLOB_RECURSE SMSD_WEB_GLOB CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/*)
smsd_web_files(SMSD_WEB_FILES ${CMAKE_SOURCE_DIR}/web)
list(TRANSFORM SMSD_WEB_FILES PREPEND ${CMAKE_SOURCE_DIR}/web/)
set(SMSD_WEB_SOURCE ${CMAKE_BINARY_DIR}/generated/web_assets_data.cpp)
add_custom_command(
  OUTPUT ${SMSD_WEB_SOURCE}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${CMAKE_SOURCE_DIR}/web -DOUTPUT=${SMSD_WEB_SOURCE}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  DEPENDS ${SMSD_WEB_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
          ${CMAKE_CURRENT_LIST_DIR}/web_files.cmake
  COMMENT "Embedding web/ (the organizer page) into smsd"
  VERBATIM)
target_sources(smsd_http PRIVATE ${SMSD_WEB_SOURCE})
