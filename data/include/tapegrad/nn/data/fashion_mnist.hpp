// Forwards to <tapegrad/data/fashion_mnist.hpp>; this old path goes away in the next release.
#pragma once

#include "tapegrad/data/fashion_mnist.hpp"  // IWYU pragma: export
