# Warnings as errors for the project's own code only.
set(XOP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Werror)

set(XOP_SANITIZE_FLAGS)
if(XOP_SANITIZE)
  set(XOP_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
endif()

# xop_library(NAME DIR DEPS...): a static library of every .cpp in DIR.
function(xop_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${XOP_WARNINGS} ${XOP_SANITIZE_FLAGS})
  target_link_options(${name} PUBLIC ${XOP_SANITIZE_FLAGS})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()
