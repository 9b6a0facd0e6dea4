// tg::distributed's process group on MPI: start-up, rank and size, and the collectives on tensors.
#pragma once

#include "tapegrad/autograd/tensor.hpp"

namespace tg::distributed {

/// Starts MPI (if the program has not) and the process group of every process that mpirun
/// started; idempotent. Also installs a terminate handler that names this rank and ends the
/// whole job with MPI_Abort, so an uncaught exception on one rank never leaves the others
/// waiting. Throws tg::Error after destroy_process_group (MPI cannot be started twice).
///
///     int main(int argc, char** argv) {
///       tg::distributed::init_process_group(&argc, &argv);
///       int rank = tg::distributed::get_rank();   // 0 .. get_world_size() - 1
void init_process_group(int* argc = nullptr, char*** argv = nullptr);
/// True between init_process_group and destroy_process_group.
bool is_initialized();
/// This process's rank in the group; throws tg::Error before init_process_group.
int get_rank();
/// The number of processes in the group; throws tg::Error before init_process_group.
int get_world_size();
/// Returns once every rank has called barrier().
void barrier();
/// Frees the group and finalises MPI (if init_process_group started it); a no-op when not
/// initialised or already destroyed. tg::distributed::run calls it when its function returns.
void destroy_process_group();

/// How all_reduce combines the ranks' values (mean = sum / world size, floating types only).
enum class ReduceOp { sum, mean, max, min };

/// Replaces `tensor`'s values, on every rank, by their elementwise reduction over all ranks.
/// f32, f64 and i64; every rank must pass the same shape and dtype. Not recorded on the tape.
void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum);
/// Copies rank `root`'s values of `tensor` into `tensor` on every rank (same shape and dtype).
void broadcast(Tensor& tensor, int root = 0);

}  // namespace tg::distributed
