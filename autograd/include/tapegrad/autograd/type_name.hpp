// tg::type_name: the readable name of a C++ type, for error messages and printed summaries.
#pragma once

#include <string>
#include <typeinfo>

namespace tg {

/// The demangled name of a type as the compiler spells it ("std::vector<int>" for
/// typeid(std::vector<int>)); the raw name where it cannot be demangled.
std::string type_name(const std::type_info& type);

}  // namespace tg
