// The loops update_elements runs an optimizer's rule in: the AVX2 one, taken where the CPU has
// AVX2, gives the baseline loop's results to the bit, on the vector body and on the tail.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <tapegrad/optim/elementwise.hpp>
#include <vector>

namespace {

// Adam's rule without bias correction: multiplies, adds, a square root and a division.
const auto adam_like = []<class T>(T& p, T g, T& m, T& v) {
  g += T(0.01) * p;
  m = T(0.9) * m + T(0.1) * g;
  v = T(0.999) * v + T(0.001) * g * g;
  p -= T(0.001) * m / (std::sqrt(v) + T(1e-8));
};

template <class T>
std::vector<T> random_values(size_t n, std::mt19937& generator, double low, double high) {
  std::uniform_real_distribution<double> uniform(low, high);
  std::vector<T> values(n);
  for (T& value : values) value = static_cast<T>(uniform(generator));
  return values;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("the AVX2 update loop gives the baseline loop's results to the bit", T, float,
                   double) {
#if defined(__x86_64__)
  if (!tg::optim::detail::cpu_has_avx2()) {
    MESSAGE("this CPU has no AVX2: update_elements runs the baseline loop only");
    return;
  }
  std::mt19937 generator(7);
  // 37 elements: two unrolled 8-float vectors and a tail for f32, more vectors for f64.
  const size_t n = 37;
  const std::vector<T> grad = random_values<T>(n, generator, -3, 3);
  std::vector<T> param = random_values<T>(n, generator, -1, 1);
  std::vector<T> m = random_values<T>(n, generator, -0.1, 0.1);
  std::vector<T> v = random_values<T>(n, generator, 0, 0.01);
  const std::vector<T> start = param;
  std::vector<T> param_avx2 = param, m_avx2 = m, v_avx2 = v;
  for (int step = 0; step < 3; ++step) {
    tg::optim::detail::update_range(param.data(), grad.data(), 0, int64_t{n}, adam_like, m.data(),
                                    v.data());
    tg::optim::detail::update_range_avx2(param_avx2.data(), grad.data(), 0, int64_t{n}, adam_like,
                                         m_avx2.data(), v_avx2.data());
  }
  CHECK(same_bits(param, param_avx2));
  CHECK(same_bits(m, m_avx2));
  CHECK(same_bits(v, v_avx2));
  CHECK(param != start);  // the rule ran
#else
  MESSAGE("not x86-64: update_elements has one loop");
#endif
}
