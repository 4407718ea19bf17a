# logfunnel.cmake: imported targets for the logfunnel C library.
#
#   set(LOGFUNNEL_ROOT /path/to/logfunnel)   # a checkout (after cargo build --release -p logfunnel-ffi)
#                                            # or an install prefix (ffi/install.sh PREFIX)
#   include(/path/to/logfunnel.cmake)
#   target_link_libraries(app PRIVATE logfunnel::logfunnel)   # liblogfunnel.so
#   target_link_libraries(app PRIVATE logfunnel::static)      # liblogfunnel.a + C++ runtime, m, pthread, dl
#
# Without LOGFUNNEL_ROOT the library is looked up through pkg-config (logfunnel.pc), then the default paths.

set(LOGFUNNEL_ROOT "${LOGFUNNEL_ROOT}" CACHE PATH "logfunnel checkout or install prefix")

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND AND NOT LOGFUNNEL_ROOT)
  pkg_check_modules(LOGFUNNEL_PC QUIET logfunnel)
endif()

set(_logfunnel_hints)
if(LOGFUNNEL_ROOT)
  list(APPEND _logfunnel_hints "${LOGFUNNEL_ROOT}/target/release" "${LOGFUNNEL_ROOT}/lib")
endif()
list(APPEND _logfunnel_hints ${LOGFUNNEL_PC_LIBRARY_DIRS})

find_path(LOGFUNNEL_INCLUDE_DIR logfunnel.h
  HINTS "${LOGFUNNEL_ROOT}/include" ${LOGFUNNEL_PC_INCLUDE_DIRS})
find_library(LOGFUNNEL_SHARED_LIBRARY NAMES liblogfunnel.so logfunnel HINTS ${_logfunnel_hints})
find_library(LOGFUNNEL_STATIC_LIBRARY NAMES liblogfunnel.a HINTS ${_logfunnel_hints})

if(NOT LOGFUNNEL_INCLUDE_DIR OR NOT (LOGFUNNEL_SHARED_LIBRARY OR LOGFUNNEL_STATIC_LIBRARY))
  message(FATAL_ERROR "logfunnel not found: set LOGFUNNEL_ROOT to a checkout built with "
    "`cargo build --release -p logfunnel-ffi` or to an install prefix (ffi/install.sh PREFIX)")
endif()

if(LOGFUNNEL_SHARED_LIBRARY AND NOT TARGET logfunnel::logfunnel)
  add_library(logfunnel::logfunnel SHARED IMPORTED)
  # The Rust-built library has no SONAME: link it by name (-llogfunnel), not by path.
  set_target_properties(logfunnel::logfunnel PROPERTIES
    IMPORTED_LOCATION "${LOGFUNNEL_SHARED_LIBRARY}"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "${LOGFUNNEL_INCLUDE_DIR}")
endif()

if(LOGFUNNEL_STATIC_LIBRARY AND NOT TARGET logfunnel::static)
  find_package(Threads REQUIRED)
  add_library(logfunnel::static STATIC IMPORTED)
  set_target_properties(logfunnel::static PROPERTIES
    IMPORTED_LOCATION "${LOGFUNNEL_STATIC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LOGFUNNEL_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "stdc++;m;Threads::Threads;${CMAKE_DL_LIBS}")
endif()
