// The main demo: a 784-256-128-10 MLP (ReLU by default) trained with Adam on Fashion-MNIST, with a
// progress bar, per-epoch test accuracy, and the loss and accuracy curves as CSV (and SVG with
// gnuplot).
//
//   fashion_mnist_mlp                                 5 epochs, Adam lr 1e-3, batch 128, seed 42
//   fashion_mnist_mlp --epochs 1 --train-subset 6000  a short run
//   fashion_mnist_mlp --optimizer sgd --lr 0.05       any of adam, adamw, sgd, rmsprop
//   fashion_mnist_mlp --save model.safetensors        keep the trained weights
//   fashion_mnist_mlp --norm batch                    BatchNorm1d (or layer: LayerNorm) after
//                                                     each hidden Linear, before the activation
//   fashion_mnist_mlp --activation gelu               GELU (or silu: SiLU) instead of ReLU
//   fashion_mnist_mlp --checkpoint run.ckpt           a checkpoint after every epoch ...
//       --checkpoint-every 50                         ... and every 50 batches within one
//   fashion_mnist_mlp --checkpoint run.ckpt --resume  ... and, after a crash, go on from it,
//                                                     mid-epoch if it was taken there
//   fashion_mnist_mlp --help                          every flag
//   mpirun -np 2 fashion_mnist_mlp --distributed      data-parallel over 2 processes (MPI)
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tapegrad.hpp>
#include <vector>

#include "progress_bar.hpp"
#if TG_HAVE_DISTRIBUTED
#include <tapegrad/distributed.hpp>
#endif

namespace {

namespace fs = std::filesystem;

// True if `dir` holds the four Fashion-MNIST files, gzipped or not.
bool fashion_mnist_present(const fs::path& dir) {
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!fs::exists(dir / (std::string(name) + ".gz")) && !fs::exists(dir / name)) return false;
  }
  return true;
}

// The first `n` samples of a split (all of them for n <= 0), and only those are read from the
// files; they are already shuffled, so a prefix has about as many samples of each class as the
// whole.
tg::data::FashionMnist read_split(const std::string& dir, bool train, int64_t n) {
  return n > 0 ? tg::data::read_fashion_mnist(dir, train, n)
               : tg::data::read_fashion_mnist(dir, train);
}

// Momentum SGD needs a much larger step than the adaptive methods, so each has its own default.
double default_lr(const std::string& optimizer) { return optimizer == "sgd" ? 0.05 : 1e-3; }

std::unique_ptr<tg::optim::Optimizer> make_optimizer(const std::string& name,
                                                     std::vector<tg::Tensor> params, double lr) {
  namespace optim = tg::optim;
  if (name == "sgd") {
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = lr, .momentum = 0.9});
  }
  if (name == "adamw") return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = lr});
  if (name == "rmsprop") {
    return std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions{.lr = lr});
  }
  return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = lr});
}

// 784-256-128-10 with ReLU; `norm` ("none", "batch" or "layer") puts a BatchNorm1d or LayerNorm
// after each hidden Linear, before its activation.
tg::nn::Sequential make_model(const std::string& norm, const std::string& activation) {
  tg::nn::Sequential model;
  int64_t in = 784;
  for (int64_t hidden : {256, 128}) {
    model.push_back(tg::nn::Linear(in, hidden));
    if (norm == "batch") model.push_back(tg::nn::BatchNorm1d(hidden));
    if (norm == "layer") model.push_back(tg::nn::LayerNorm({hidden}));
    if (activation == "relu") model.push_back(tg::nn::ReLU());
    if (activation == "gelu") model.push_back(tg::nn::GELU());
    if (activation == "silu") model.push_back(tg::nn::SiLU());
    in = hidden;
  }
  model.push_back(tg::nn::Linear(in, 10));
  return model;
}

struct Evaluation {
  double loss;
  double accuracy;
};

// Mean cross-entropy and accuracy over a whole split: in eval mode, recording nothing.
Evaluation evaluate(tg::nn::Module& model, const tg::data::FashionMnist& split) {
  tg::NoGradGuard no_grad;
  model.eval();
  tg::Tensor logits = model(split.images);
  const double loss = tg::F::cross_entropy(logits, split.labels).item();
  const double correct = tg::eq(logits.argmax(1), split.labels).sum().item();
  model.train();
  return {loss, correct / static_cast<double>(split.labels.size(0))};
}

// The curves, one row per point: the training loss averaged over each tenth of an epoch, and the
// test loss and accuracy at each epoch's end. A value a row does not have is NaN (empty in CSV).
class Curves {
 public:
  explicit Curves(int64_t steps_per_epoch)
      : steps_per_epoch_(steps_per_epoch),
        steps_per_point_(std::max<int64_t>(steps_per_epoch / 10, 1)) {}

  // After every training step.
  void add_train_loss(double loss) {
    window_loss_ += loss;
    ++window_steps_;
    ++steps_;
    if (window_steps_ == steps_per_point_ || steps_ % steps_per_epoch_ == 0) {
      rows_.push_back({epoch(), window_loss_ / static_cast<double>(window_steps_), kNone, kNone});
      window_loss_ = 0;
      window_steps_ = 0;
    }
  }
  // At the end of every epoch.
  void add_test(Evaluation test) { rows_.push_back({epoch(), kNone, test.loss, test.accuracy}); }

  void write_csv(const std::string& path) const {
    std::ofstream out(path);
    auto field = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
    out << "epoch,train_loss,test_loss,test_accuracy\n";
    for (const Row& r : rows_) {
      out << fmt::format("{:.4f},{},{},{}\n", r.epoch, field(r.train_loss), field(r.test_loss),
                         field(r.test_accuracy));
    }
    if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", path));
  }

 private:
  struct Row {
    double epoch;
    double train_loss;
    double test_loss;
    double test_accuracy;
  };
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

  double epoch() const {
    return static_cast<double>(steps_) / static_cast<double>(steps_per_epoch_);
  }

  int64_t steps_per_epoch_;
  int64_t steps_per_point_;
  int64_t steps_ = 0;
  int64_t window_steps_ = 0;
  double window_loss_ = 0;
  std::vector<Row> rows_;
};

// Plots the CSV's curves into an SVG with gnuplot, if it is installed; says what happened.
void plot_svg(const std::string& csv, const std::string& svg) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    fmt::print("gnuplot not found: no SVG (the curves are in {})\n", csv);
    return;
  }
  FILE* gnuplot = popen("gnuplot", "w");
  if (gnuplot == nullptr) {
    fmt::print("could not start gnuplot: no SVG\n");
    return;
  }
  // Empty CSV fields are missing points, so each curve joins only the rows that have it.
  fmt::print(gnuplot,
             "set terminal svg size 960,400 dynamic font 'sans,12' background rgb 'white'\n"
             "set output '{0}'\n"
             "set datafile separator comma\n"
             "set multiplot layout 1,2 title 'MLP 784-256-128-10 on Fashion-MNIST'\n"
             "set xlabel 'epoch'\n"
             "set grid\n"
             "set ylabel 'cross-entropy'\n"
             "plot '{1}' using 1:2 with lines lw 2 title 'train (mean per 1/10 epoch)', \\\n"
             "     '{1}' using 1:3 with linespoints lw 2 pt 7 title 'test'\n"
             "set ylabel 'test accuracy'\n"
             "set key bottom right\n"
             "plot '{1}' using 1:4 with linespoints lw 2 pt 7 title 'test accuracy'\n"
             "unset multiplot\n",
             svg, csv);
  if (pclose(gnuplot) == 0) {
    fmt::print("curves plotted to {}\n", fs::absolute(svg).string());
  } else {
    fmt::print("gnuplot failed: no SVG\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 5;
  int64_t batch_size = 128;
  double lr = 0;
  std::string optimizer_name = "adam";
  int threads = 0;
  uint64_t seed = 42;
  std::string data_dir = tg::data::fashion_mnist_dir();
  int64_t train_subset = 0;
  int64_t test_subset = 0;
  std::string csv_path = "fashion_mnist_curves.csv";
  std::string svg_path;
  std::string save_path;
  std::string norm = "none";
  std::string activation = "relu";
  bool distributed = false;
  bool fp16_allreduce = false;
  std::string checkpoint_path;
  int64_t checkpoint_every = 0;
  bool resume = false;

  CLI::App app{"Trains a 784-256-128-10 MLP on Fashion-MNIST and reports its test accuracy."};
  app.add_option("--epochs", epochs, "passes over the training set")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch_size, "samples per step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--optimizer", optimizer_name, "adam, adamw, sgd (momentum 0.9) or rmsprop")
      ->capture_default_str()
      ->check(CLI::IsMember({"adam", "adamw", "sgd", "rmsprop"}));
  app.add_option("--lr", lr, "learning rate (default 1e-3; 0.05 for sgd)")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "BLAS threads (default: tapegrad's)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of the initial weights and the shuffling")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "where the IDX files are ($TG_FASHION_MNIST_DIR)")
      ->capture_default_str();
  app.add_option("--train-subset", train_subset, "train on the first N images only")
      ->check(CLI::PositiveNumber);
  app.add_option("--test-subset", test_subset, "test on the first N images only")
      ->check(CLI::PositiveNumber);
  app.add_option("--csv", csv_path, "where to write the curves")->capture_default_str();
  app.add_option("--svg", svg_path, "where to plot them (default: the CSV's path, .svg)");
  app.add_option("--norm", norm,
                 "none, batch (BatchNorm1d) or layer (LayerNorm) after hidden layers")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "batch", "layer"}));
  app.add_option("--activation", activation, "relu, gelu or silu after each hidden layer")
      ->capture_default_str()
      ->check(CLI::IsMember({"relu", "gelu", "silu"}));
  app.add_option("--save", save_path, "save the trained model there (e.g. model.safetensors)");
  app.add_flag("--distributed", distributed,
               "data-parallel training under mpirun: the batch is split across the ranks, "
               "rank 0 prints, evaluates and writes (one BLAS thread per rank unless --threads)");
  app.add_flag("--fp16-allreduce", fp16_allreduce,
               "with --distributed: send the gradients as IEEE halves (half the bytes)");
  auto* checkpoint_option = app.add_option(
      "--checkpoint", checkpoint_path,
      "write model, optimizer, scheduler, generator and the loader's position there after "
      "every epoch");
  app.add_option("--checkpoint-every", checkpoint_every,
                 "also write the checkpoint every N batches, inside the epoch")
      ->check(CLI::PositiveNumber)
      ->needs(checkpoint_option);
  app.add_flag("--resume", resume,
               "continue from the --checkpoint file, at the batch after the one it was taken at")
      ->needs(checkpoint_option);
  CLI11_PARSE(app, argc, argv);
  if (lr == 0) lr = default_lr(optimizer_name);
  if (svg_path.empty()) svg_path = fs::path(csv_path).replace_extension(".svg").string();

  if (!fashion_mnist_present(data_dir)) {
    fmt::print(stderr,
               "fashion_mnist_mlp: no Fashion-MNIST files in {}\n"
               "install dataset-fashion-mnist: sudo scripts/setup\n"
               "(or point --data-dir or TG_FASHION_MNIST_DIR at "
               "{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz)\n",
               data_dir);
    return 1;
  }

  int rank = 0;
  int world = 1;
  if (distributed) {
#if TG_HAVE_DISTRIBUTED
    tg::distributed::init_process_group(&argc, &argv);
    rank = tg::distributed::get_rank();
    world = tg::distributed::get_world_size();
    if (threads == 0) threads = 1;  // the ranks share the cores
#else
    fmt::print(stderr, "fashion_mnist_mlp: built without MPI; --distributed is unavailable\n");
    return 1;
#endif
  }
  const bool leader = rank == 0;  // prints, evaluates and writes files

  try {
    if (batch_size % world != 0)
      throw std::runtime_error(
          fmt::format("--batch-size {} is not divisible by the {} ranks", batch_size, world));
    if (threads > 0) tg::set_num_threads(threads);
    tg::manual_seed(seed);

    auto train = read_split(data_dir, /*train=*/true, train_subset);
    auto test = read_split(data_dir, /*train=*/false, test_subset);
    // Pixels centred and scaled by the training set's mean and standard deviation (about 0.286
    // and 0.353, torchvision's Normalize for this data): inputs of unit scale train faster. In
    // place, so the 188 MB of training images exist once.
    const tg::data::ElementMoments pixels = tg::data::element_moments(train.images);
    tg::data::standardize_(train.images, pixels.mean, pixels.std);
    tg::data::standardize_(test.images, pixels.mean, pixels.std);
    // Each rank reads its shard of every epoch's permutation, batch_size / world at a time.
    tg::data::DataLoader train_loader(tg::data::TensorDataset(train.images, train.labels),
                                      {.batch_size = batch_size / world,
                                       .shuffle = true,
                                       .seed = seed,
                                       .num_replicas = world,
                                       .rank = rank});

    tg::nn::Sequential model = make_model(norm, activation);
    // What the training loop calls: the model, or its data-parallel wrapper (same parameters).
    tg::nn::Module* trained = &model;
#if TG_HAVE_DISTRIBUTED
    std::unique_ptr<tg::distributed::DistributedDataParallel> ddp;
    if (distributed) {
      tg::distributed::DDPOptions options;
      if (fp16_allreduce) options.comm_hook = tg::distributed::fp16_compress_hook();
      ddp = std::make_unique<tg::distributed::DistributedDataParallel>(model, options);
      trained = ddp.get();
    }
#endif
    auto optimizer = make_optimizer(optimizer_name, model.parameters(), lr);
    // The learning rate follows half a cosine from lr down to 0 over the run: large steps early,
    // small ones at the end, which settle the weights and gain a point of accuracy.
    tg::optim::CosineAnnealingLR scheduler(*optimizer, {.T_max = epochs});

    if (leader) {
      fmt::print("Fashion-MNIST from {}: {} training images, {} test images\n", data_dir,
                 train.labels.size(0), test.labels.size(0));
      fmt::print("{}", tg::nn::summary(model, {batch_size, 784}));
      fmt::print(
          "MLP 784-256-128-10 ({}, norm {}), {} parameters; {} lr {:g}, batch {}, seed {}, "
          "{} thread{}\n",
          activation, norm, model.num_parameters(), optimizer_name, lr, batch_size, seed,
          tg::get_num_threads(), tg::get_num_threads() == 1 ? "" : "s");
      if (distributed)
        fmt::print(
            "data-parallel over {} ranks: {} samples per rank per step, {} thread{} each{}\n",
            world, batch_size / world, tg::get_num_threads(), tg::get_num_threads() == 1 ? "" : "s",
            fp16_allreduce ? ", gradients sent as f16" : "");
    }

    // The checkpoint holds the loader's position (epoch, batch within it, seed) beside model,
    // optimizer, scheduler and generator, so a resumed run continues with the batch after the
    // last one trained, mid-epoch or not. The metadata carries the epoch's running loss, so the
    // resumed epoch reports the same mean as an uninterrupted one.
    auto save = [&](const ProgressBar* bar) {
      tg::Metadata metadata;
      if (bar != nullptr) {
        metadata["epoch_steps"] = std::to_string(bar->steps());
        metadata["epoch_samples"] = std::to_string(bar->samples());
        metadata["epoch_loss_sum"] = fmt::format("{:a}", bar->loss_sum());  // exact
      }
      tg::save_checkpoint(checkpoint_path, model, *optimizer,
                          {.scheduler = &scheduler, .loader = &train_loader, .metadata = metadata});
    };
    tg::Metadata resumed;
    if (resume) {
      resumed = tg::load_checkpoint(checkpoint_path, model, *optimizer,
                                    {.scheduler = &scheduler, .loader = &train_loader});
      // Loader epochs count from 0, the demo's from 1.
      const int64_t epoch = train_loader.epoch() + 1, batch = train_loader.next_batch();
      if (leader) {
        if (batch == 0)
          fmt::print("resumed from {} after epoch {}\n", checkpoint_path, epoch - 1);
        else
          fmt::print("resumed from {} in epoch {}, after batch {} of {}\n", checkpoint_path, epoch,
                     batch, train_loader.size());
      }
    }
    const int first_epoch = static_cast<int>(train_loader.epoch()) + 1;

    Curves curves(train_loader.size());
    double train_seconds = 0;
    Evaluation result = first_epoch > epochs ? evaluate(model, test) : Evaluation{};

    for (int epoch = first_epoch; epoch <= epochs; ++epoch) {
      model.train();
      std::optional<ProgressBar> bar;  // rank 0's, showing rank 0's share of the loss
      if (leader) bar.emplace(fmt::format("epoch {}/{}", epoch, epochs), train_loader.size());
      if (leader && epoch == first_epoch && train_loader.next_batch() > 0)
        bar->resume(std::stoll(resumed.at("epoch_steps")), std::stoll(resumed.at("epoch_samples")),
                    std::strtod(resumed.at("epoch_loss_sum").c_str(), nullptr));
      for (auto [x, y] : train_loader) {
        optimizer->zero_grad();
        tg::Tensor loss = tg::F::cross_entropy((*trained)(x), y);
        loss.backward();  // distributed: the gradients are averaged over the ranks here
        optimizer->step();

        if (leader) {
          bar->step(x.size(0) * world, loss.item());
          curves.add_train_loss(loss.item());
          if (checkpoint_every > 0 && bar->steps() % checkpoint_every == 0) save(&*bar);
        }
      }
      scheduler.step();
      if (!leader) continue;
      const double seconds = bar->finish();
      train_seconds += seconds;

      result = evaluate(model, test);
      curves.add_test(result);
      fmt::print(
          "epoch {}/{}  train loss {:.4f}  test loss {:.4f}  test accuracy {:.4f}  ({:.2f} s)\n",
          epoch, epochs, bar->running_loss(), result.loss, result.accuracy, seconds);
      std::fflush(stdout);
      if (!checkpoint_path.empty()) save(nullptr);
    }

    if (leader) {
      fmt::print("final test accuracy {:.4f} after {} epoch{} ({:.2f} s/epoch of training)\n",
                 result.accuracy, epochs, epochs == 1 ? "" : "s",
                 train_seconds / std::max(epochs - first_epoch + 1, 1));
      curves.write_csv(csv_path);
      fmt::print("curves written to {}\n", fs::absolute(csv_path).string());
      plot_svg(csv_path, svg_path);
      if (!save_path.empty()) {
        tg::nn::save(model, save_path);
        fmt::print("model saved to {}\n", fs::absolute(save_path).string());
      }
    }
  } catch (const std::exception& e) {
#if TG_HAVE_DISTRIBUTED
    // Ends every rank at once, naming this one, instead of leaving them in a collective.
    if (distributed)
      tg::distributed::abort_job(fmt::format("fashion_mnist_mlp: {}", e.what()).c_str());
#endif
    fmt::print(stderr, "fashion_mnist_mlp: {}\n", e.what());
    return 1;
  }
#if TG_HAVE_DISTRIBUTED
  if (distributed) tg::distributed::destroy_process_group();
#endif
  return 0;
}
