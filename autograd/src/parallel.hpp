// detail::parallel_for (public in tapegrad/autograd/parallel_for.hpp) and the thread-count
// setter that only tg::set_num_threads calls.
#pragma once

#include "tapegrad/autograd/parallel_for.hpp"

namespace tg::detail {

/// Records the count tg::set_num_threads set (and tells OpenMP, for this thread's regions).
void set_parallel_threads(int n);

}  // namespace tg::detail
