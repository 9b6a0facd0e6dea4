// Forwards to <tapegrad/data/dataloader.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/dataloader.hpp"  // IWYU pragma: export
