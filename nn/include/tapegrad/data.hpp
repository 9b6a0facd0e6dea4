// tg::data: datasets, the DataLoader, IDX and CSV readers, scalers and train/test splitting.
#pragma once

#include "tapegrad/nn/data/csv.hpp"
#include "tapegrad/nn/data/dataloader.hpp"
#include "tapegrad/nn/data/dataset.hpp"
#include "tapegrad/nn/data/fashion_mnist.hpp"
#include "tapegrad/nn/data/idx.hpp"
#include "tapegrad/nn/data/scaler.hpp"
#include "tapegrad/nn/data/split.hpp"
