// Forwards to <tapegrad/data/dataset.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/dataset.hpp"  // IWYU pragma: export
