// Forwards to <tapegrad/data/csv.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/csv.hpp"  // IWYU pragma: export
