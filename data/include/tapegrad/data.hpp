// tg::data: datasets, the DataLoader, IDX and CSV readers, scalers and train/test splitting.
#pragma once

#include "tapegrad/data/csv.hpp"
#include "tapegrad/data/dataloader.hpp"
#include "tapegrad/data/dataset.hpp"
#include "tapegrad/data/fashion_mnist.hpp"
#include "tapegrad/data/idx.hpp"
#include "tapegrad/data/scaler.hpp"
#include "tapegrad/data/split.hpp"
