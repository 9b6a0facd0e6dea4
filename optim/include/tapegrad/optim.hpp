// tg::optim: the Optimizer base, SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS and the schedulers.
#pragma once

#include "tapegrad/optim/adagrad.hpp"
#include "tapegrad/optim/adam.hpp"
#include "tapegrad/optim/lbfgs.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/optim/rmsprop.hpp"
#include "tapegrad/optim/scheduler.hpp"
#include "tapegrad/optim/sgd.hpp"
