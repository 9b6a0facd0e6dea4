// tg::type_name, on the demangler that custom functions name themselves with.
#include "tapegrad/autograd/type_name.hpp"

#include "tapegrad/autograd/function.hpp"

namespace tg {

std::string type_name(const std::type_info& type) {
  return autograd::detail::demangle(type.name());
}

}  // namespace tg
