// Everything of tapegrad's autograd layer: tensors, ops, modes, tg::grad, derivatives, gradcheck.
#pragma once

#include "tapegrad/autograd/anomaly.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/derivatives.hpp"
#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/function.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/gradcheck.hpp"
#include "tapegrad/autograd/hooks.hpp"
#include "tapegrad/autograd/linalg.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"
#include "tapegrad/autograd/serialize.hpp"
#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/autograd/tape.hpp"
#include "tapegrad/autograd/tensor.hpp"
