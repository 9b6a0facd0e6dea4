// Forwards to <tapegrad/data/split.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/split.hpp"  // IWYU pragma: export
