// Forwards to <tapegrad/data/scaler.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/scaler.hpp"  // IWYU pragma: export
