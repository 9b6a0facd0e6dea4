# Warnings and code generation (private to tapegrad's own targets) and the TG_SANITIZE option.

function(tg_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
endfunction()

# The libraries' kernels never read errno, and setting it keeps GCC from vectorising any loop
# that calls sqrt (the Adam and RMSprop steps ran scalar because of it).
function(tg_set_library_codegen target)
  target_compile_options(${target} PRIVATE -fno-math-errno)
endfunction()

if(TG_SANITIZE)
  string(REPLACE ";" "," _tg_sanitizers "${TG_SANITIZE}")
  message(STATUS "tapegrad: building with -fsanitize=${_tg_sanitizers}")
  add_compile_options(-fsanitize=${_tg_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_tg_sanitizers})
endif()
