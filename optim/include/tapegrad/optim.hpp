// tg::optim: the Optimizer base, SGD, Adagrad, RMSprop, the Adam family (Adam, AdamW, NAdam,
// RAdam, Adamax), Adadelta, LBFGS and the schedulers.
#pragma once

#include "tapegrad/optim/adadelta.hpp"
#include "tapegrad/optim/adagrad.hpp"
#include "tapegrad/optim/adam.hpp"
#include "tapegrad/optim/adamax.hpp"
#include "tapegrad/optim/lbfgs.hpp"
#include "tapegrad/optim/nadam.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/optim/radam.hpp"
#include "tapegrad/optim/rmsprop.hpp"
#include "tapegrad/optim/scheduler.hpp"
#include "tapegrad/optim/sgd.hpp"
