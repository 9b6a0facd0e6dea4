// tg::nn: modules, layers, activations, normalisation, dropout, init, functional losses,
// clipping, save/load, summary.
#pragma once

#include "tapegrad/nn/activation.hpp"
#include "tapegrad/nn/clip_grad.hpp"
#include "tapegrad/nn/dropout.hpp"
#include "tapegrad/nn/functional.hpp"
#include "tapegrad/nn/gradcheck.hpp"
#include "tapegrad/nn/init.hpp"
#include "tapegrad/nn/linear.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/nn/normalization.hpp"
#include "tapegrad/nn/sequential.hpp"
#include "tapegrad/nn/serialize.hpp"
#include "tapegrad/nn/summary.hpp"
