# Warnings, sanitizers and the layer-library helper shared by every target.

add_library(dsinfer_options INTERFACE)
target_compile_options(dsinfer_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                 -Wnon-virtual-dtor -Wno-missing-field-initializers)
# GCC 12 at -O3 reports libstdc++'s own memcpy/memmove inside vector and string as overflows
# (GCC bugs 105329, 105651, 106199), and as overreads in test files that use the precompiled
# header (tests/CMakeLists.txt); they are false positives that would fail -Werror builds.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(dsinfer_options INTERFACE -Wno-stringop-overflow -Wno-stringop-overread
                                                   -Wno-restrict -Wno-array-bounds)
endif()
if(DSINFER_WERROR)
  target_compile_options(dsinfer_options INTERFACE -Werror)
endif()
if(DSINFER_SANITIZE)
  target_compile_options(dsinfer_options INTERFACE -fsanitize=${DSINFER_SANITIZE}
                                                   -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(dsinfer_options INTERFACE -fsanitize=${DSINFER_SANITIZE})
endif()
target_include_directories(dsinfer_options INTERFACE ${PROJECT_SOURCE_DIR}/src)

# The layers whose code the fuzzers (fuzz/) drive with untrusted bytes. libFuzzer's coverage
# feedback must come from their parsers, not only from the fuzz drivers; the other layers stay
# uninstrumented, so the unit tests that share the sanitizer build (make asan) run their
# kernels at full speed.
set(DSINFER_FUZZED_LAYERS base formats tokenizer server)

# dsinfer_layer(NAME DEPS <libs>...): one static library per src/ folder, named dsinfer_NAME,
# built from that folder's *.cc. DEPS lists only layers above it in DESIGN.md's table;
# scripts/check-layers.sh verifies the #includes agree.
function(dsinfer_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  add_library(dsinfer_${name} STATIC ${sources})
  target_link_libraries(dsinfer_${name} PUBLIC dsinfer_options ${ARG_DEPS})
  if(DSINFER_BUILD_FUZZ AND name IN_LIST DSINFER_FUZZED_LAYERS)
    target_compile_options(dsinfer_${name} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
