// The umbrella header: all of tapegrad (autograd, nn, data, optim, checkpoint) with one include.
// It lives with nn, the highest library, and is installed as <tapegrad.hpp>.
#pragma once

#include "tapegrad/autograd.hpp"
#include "tapegrad/checkpoint.hpp"
#include "tapegrad/data.hpp"
#include "tapegrad/nn.hpp"
#include "tapegrad/optim.hpp"
