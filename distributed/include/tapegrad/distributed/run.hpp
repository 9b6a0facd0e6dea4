// tg::distributed::run: a main function whose failure on any rank ends the whole job at once.
#pragma once

#include <functional>

namespace tg::distributed {

/// Calls `main_function`, then destroy_process_group() (which finalises MPI if
/// init_process_group started it), and returns its result, so `return run(...)` from main ends
/// a job cleanly with exit status 0. If it throws, writes
/// "tapegrad: rank R of N failed: <message>" to stderr and ends every process of the job with
/// MPI_Abort (exit status 1), so no other rank waits forever in a collective.
///
///     int main(int argc, char** argv) {
///       tg::distributed::init_process_group(&argc, &argv);
///       return tg::distributed::run([&] { return train(); });
///     }
int run(const std::function<int()>& main_function);

/// Writes "tapegrad: rank R of N failed: <message>" to stderr and aborts the whole job.
[[noreturn]] void abort_job(const char* message);

}  // namespace tg::distributed
