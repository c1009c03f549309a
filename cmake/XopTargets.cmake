# Warnings as errors for the project's own code only.
set(XOP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Werror)
# Tests and benchmarks only (tests/ and bench/ append it): GCC 12 at -O3 reports false -Wrestrict
# positives inside libstdc++'s `"literal" + std::string` (GCC bug 105329), a pattern test code uses
# everywhere to build names. There, in Release with GCC < 13, it stays a warning but not an error.
# The project's own sources (src/) keep it an error: they avoid the pattern where it fired.
set(XOP_TEST_WARNING_RELAX)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  set(XOP_TEST_WARNING_RELAX $<$<CONFIG:Release>:-Wno-error=restrict>)
endif()

set(XOP_SANITIZE_FLAGS)
if(XOP_SANITIZE)
  set(XOP_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
endif()

# The libFuzzer build (-DXOP_FUZZ=ON, clang) instruments the libraries too, not only the
# harnesses: coverage feedback (fuzzer-no-link), ASan and UBSan on every source of the project,
# except that clang 14's UBSan cannot compile Asio coroutines, so sources with coroutine bodies
# (net/http_server.cpp, net/http_client.cpp) get ASan and coverage only.
set(XOP_FUZZ_LIB_FLAGS)
set(XOP_FUZZ_CORO_FLAGS)
set(XOP_FUZZ_LINK_FLAGS)
if(XOP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "XOP_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  # The GCC build is the warnings gate; clang-only warnings must not break the fuzz build.
  list(REMOVE_ITEM XOP_WARNINGS -Werror)
  set(XOP_FUZZ_CORO_FLAGS -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer)
  set(XOP_FUZZ_LIB_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  set(XOP_FUZZ_LINK_FLAGS -fsanitize=address,undefined)
endif()

# xop_library(NAME DIR DEPS...): a static library of every .cpp in DIR.
function(xop_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${XOP_WARNINGS} ${XOP_SANITIZE_FLAGS})
  target_link_options(${name} PUBLIC ${XOP_SANITIZE_FLAGS} ${XOP_FUZZ_LINK_FLAGS})
  target_link_libraries(${name} PUBLIC ${ARGN})
  if(XOP_FUZZ)
    foreach(src ${srcs})
      file(STRINGS ${src} coro REGEX "co_await|co_return")
      if(coro)
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${XOP_FUZZ_CORO_FLAGS}")
      else()
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${XOP_FUZZ_LIB_FLAGS}")
      endif()
    endforeach()
  endif()
endfunction()
