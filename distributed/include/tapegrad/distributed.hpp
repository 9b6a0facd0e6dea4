// Everything of tapegrad's data-parallel training on MPI (target tapegrad::distributed).
#pragma once

#include "tapegrad/distributed/ddp.hpp"
#include "tapegrad/distributed/process_group.hpp"
#include "tapegrad/distributed/run.hpp"
