// Batches a dataset and reads a missing IDX file through the installed tapegrad::data alone.
#include <cstdio>
#include <string>
#include <tapegrad/autograd.hpp>
#include <tapegrad/data/dataloader.hpp>
#include <tapegrad/data/idx.hpp>
#include <vector>

int main() {
  // Rows 0..4 of x are 0, 1, ..., 4: in order with batch size 2 the batches are [0, 1], [2, 3],
  // [4].
  tg::data::DataLoader loader(tg::data::TensorDataset(tg::arange(5).reshape({5, 1}), tg::arange(5)),
                              {.batch_size = 2});
  std::vector<int64_t> sizes;
  double last_first = -1;
  for (auto [x, y] : loader) {
    sizes.push_back(x.size(0));
    last_first = x.to_vector()[0];
  }
  const bool batches_ok = sizes == std::vector<int64_t>{2, 2, 1} && last_first == 4.0;

  // read_idx pulls in the gzip reader, so this links only if zlib came with tapegrad::data.
  bool error_ok = false;
  try {
    tg::data::read_idx("/nonexistent/tapegrad-consumer.idx.gz");
  } catch (const tg::Error& error) {
    error_ok = std::string(error.what()).find("read_idx") != std::string::npos;
  }
  std::printf("consumer_data: batches %s, missing file %s\n", batches_ok ? "ok" : "WRONG",
              error_ok ? "reported" : "NOT REPORTED");
  return batches_ok && error_ok ? 0 : 1;
}
