// Compiled (not run) by the "fuzz build: small-block caches off under clang sanitizers" test:
// it compiles only if the library's free lists and buffer cache are off exactly when clang
// instruments for a sanitizer, TG_EXPECT_SANITIZED being 1 under -fsanitize=address or thread.
#include "small_blocks.hpp"

static_assert(tg::detail::kSanitized == (TG_EXPECT_SANITIZED != 0),
              "small_blocks.hpp's sanitizer check disagrees with the compiler's flags");

int main() { return 0; }
