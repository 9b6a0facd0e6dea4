// The umbrella header: all of tapegrad (autograd, nn, data, optim, checkpoint) with one include.
// It belongs to the umbrella target tapegrad::tapegrad and is installed as <tapegrad.hpp>.
#pragma once

#include "tapegrad/autograd.hpp"
#include "tapegrad/checkpoint.hpp"
#include "tapegrad/data.hpp"
#include "tapegrad/nn.hpp"
#include "tapegrad/optim.hpp"
