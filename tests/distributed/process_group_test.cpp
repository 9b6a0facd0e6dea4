// The process group: rank and size, all_reduce per dtype and op, broadcast, barrier, misuse.
#include <tapegrad/distributed.hpp>

#include "support/testing.hpp"

namespace dist = tg::distributed;

namespace {

// Rank r holds [r + 1, -2(r + 1), r / 2] in `dtype` (i64: [r + 1, -2(r + 1), r]).
tg::Tensor rank_values(tg::DType dtype) {
  const double r = dist::get_rank();
  const double third = dtype == tg::i64 ? r : r / 2;
  return tg::tensor({r + 1, -2 * (r + 1), third}, {3}, {.dtype = dtype});
}

}  // namespace

TEST_CASE("the group has a rank in 0 .. world size - 1 and init is idempotent") {
  dist::init_process_group();
  CHECK(dist::is_initialized());
  CHECK(dist::get_world_size() >= 1);
  CHECK(dist::get_rank() >= 0);
  CHECK(dist::get_rank() < dist::get_world_size());
  dist::barrier();
}

TEST_CASE("all_reduce sums, averages, and takes the max and min over ranks, in every dtype") {
  const double n = dist::get_world_size();
  const double sum_r1 = n * (n + 1) / 2;    // Σ (r + 1) over r = 0 .. n - 1
  const double sum_half = n * (n - 1) / 4;  // Σ r / 2
  for (tg::DType dtype : {tg::f32, tg::f64, tg::i64}) {
    CAPTURE(tg::dtype_name(dtype));
    const double sum_third = dtype == tg::i64 ? 2 * sum_half : sum_half;
    SUBCASE("sum") {
      tg::Tensor t = rank_values(dtype);
      dist::all_reduce(t, dist::ReduceOp::sum);
      CHECK(t.dtype() == dtype);
      TG_CHECK_VALUES(t, {sum_r1, -2 * sum_r1, sum_third});
    }
    SUBCASE("max") {
      tg::Tensor t = rank_values(dtype);
      dist::all_reduce(t, dist::ReduceOp::max);
      TG_CHECK_VALUES(t, {n, -2, dtype == tg::i64 ? n - 1 : (n - 1) / 2});
    }
    SUBCASE("min") {
      tg::Tensor t = rank_values(dtype);
      dist::all_reduce(t, dist::ReduceOp::min);
      TG_CHECK_VALUES(t, {1, -2 * n, 0});
    }
    if (dtype != tg::i64) {
      SUBCASE("mean") {
        tg::Tensor t = rank_values(dtype);
        dist::all_reduce(t, dist::ReduceOp::mean);
        TG_CHECK_VALUES_TOL(t, 1e-6, {sum_r1 / n, -2 * sum_r1 / n, sum_half / n});
      }
    }
  }
}

TEST_CASE("all_reduce of a parameter writes in place without recording") {
  tg::Tensor w = tg::tensor({1, 2}, {2}, {.dtype = tg::f64, .requires_grad = true});
  dist::all_reduce(w, dist::ReduceOp::mean);
  CHECK(w.is_leaf());
  TG_CHECK_VALUES(w, {1, 2});
}

TEST_CASE("broadcast copies the root's values to every rank, in every dtype") {
  const int last = dist::get_world_size() - 1;
  for (tg::DType dtype : {tg::f32, tg::f64, tg::i64}) {
    CAPTURE(tg::dtype_name(dtype));
    tg::Tensor t = rank_values(dtype);
    dist::broadcast(t, last);
    const double r = last;
    TG_CHECK_VALUES(t, {r + 1, -2 * (r + 1), dtype == tg::i64 ? r : r / 2});
  }
}

TEST_CASE("collectives reject misuse with tg::Error naming the call") {
  tg::Tensor integers = tg::tensor({1, 2}, {2}, {.dtype = tg::i64});
  TG_CHECK_ERROR(dist::all_reduce(integers, dist::ReduceOp::mean), "all_reduce", "mean", "i64",
                 "[2]");
  tg::Tensor undefined;
  TG_CHECK_ERROR(dist::all_reduce(undefined), "all_reduce", "undefined");
  tg::Tensor t = tg::zeros({2});
  const int n = dist::get_world_size();
  const std::string bad_root = "root " + std::to_string(n);
  TG_CHECK_ERROR(dist::broadcast(t, n), "broadcast", bad_root.c_str(), "group of");
  TG_CHECK_ERROR(dist::broadcast(t, -1), "broadcast", "root -1");
}
