// Forwards to <tapegrad/data/idx.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/idx.hpp"  // IWYU pragma: export
