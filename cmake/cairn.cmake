# Shared settings and helpers for Cairn's targets.

# Flags for Cairn's own code (third-party code is compiled with its own, quieter flags).
add_library(cairn_flags INTERFACE)
target_include_directories(cairn_flags INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_options(cairn_flags INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter)

if(CAIRN_WASM)
  # SIMD everywhere; native wasm exceptions (third-party C++ such as nlohmann/json throws, and
  # Catch2 needs them); the heap grows as models and databases need.
  add_compile_options(-msimd128 -fwasm-exceptions)
  add_link_options(-fwasm-exceptions -sALLOW_MEMORY_GROWTH=1 -sSTACK_SIZE=1MB)
endif()

# cairn_test(NAME SOURCES ... LIBS ... [LABELS ...])
# One Catch2 binary per module; natively it runs directly, as wasm under Node (ctest uses the
# toolchain's cross-compiling emulator). Every test gets the label `unit` and, as wasm, `wasm`.
function(cairn_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE cairn_flags cairn_catch2 ${ARG_LIBS})
  if(CAIRN_WASM)
    # NODERAWFS: the test reads and writes the real file system through Node, like natively.
    target_link_options(${name} PRIVATE -sENVIRONMENT=node -sNODERAWFS=1 -sEXIT_RUNTIME=1)
    set(labels unit wasm ${ARG_LABELS})
  else()
    set(labels unit ${ARG_LABELS})
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}")
endfunction()

# cairn_bench(NAME SOURCES ... LIBS ...): a benchmark binary that prints JSON lines.
function(cairn_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE cairn_flags ${ARG_LIBS})
  if(CAIRN_WASM)
    target_link_options(${name} PRIVATE -sENVIRONMENT=node -sNODERAWFS=1 -sEXIT_RUNTIME=1)
  endif()
endfunction()

# The model recipe's sources: model packs built from them are rebuilt when they change.
file(GLOB CAIRN_RECIPE_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/models/recipe/*.py)
# The converters of real models (convert_*.py, tfjs_*.py, words.py) build no test pack.
list(FILTER CAIRN_RECIPE_SOURCES EXCLUDE REGEX "/(convert_[a-z_]+|tfjs_[a-z_]+|words)\\.py$")
