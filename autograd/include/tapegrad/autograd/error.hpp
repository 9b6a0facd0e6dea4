// tg::Error, the one exception type tapegrad throws for misuse and bad input.
#pragma once

#include <stdexcept>
#include <string>

namespace tg {

/// Thrown for every misuse (bad shapes, dtypes, dims, options) and every bad file; the message
/// names the op or file and the shapes or offset involved.
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace tg
