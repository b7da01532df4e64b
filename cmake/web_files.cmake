# The files of web/ that are served: everything but hidden files and editor leftovers. Shared by
# cmake/web_assets.cmake (configure time, for the dependencies) and cmake/embed_web.cmake.
function(smsd_web_files out dir)
  file(GLOB_RECURSE found RELATIVE "${dir}" "${dir}/*")
  set(kept "")
  foreach(path ${found})
    if(NOT path MATCHES "(^|/)\\." AND NOT path MATCHES "(~|\\.swp|\\.orig)$")
      list(APPEND kept "${path}")
    endif()
  endforeach()
  list(SORT kept)
  set(${out} "${kept}" PARENT_SCOPE)
endfunction()
