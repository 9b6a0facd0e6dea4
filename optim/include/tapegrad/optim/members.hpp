// The members of a plain struct (an optimizer's options or per-parameter state) and their
// names, read from the struct itself, so that the state dict needs no second list of them.
//
// C++20 has no reflection. The members are reached by structured bindings (their number found
// by trying aggregate initialisation with more and more arguments), and a member's name is read
// from the compiler's spelling of a template argument that points at it: GCC and Clang print
// `&object.value.Struct::lr` or `&object.value.lr` inside __PRETTY_FUNCTION__.
#pragma once

#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tg::optim::detail {

/// Converts to any member type, to count an aggregate's members.
struct AnyField {
  template <class U>
  operator U() const;  // NOLINT: declared only, used in unevaluated checks
};

/// The number of members of the aggregate `Struct` (at most 8).
template <class Struct, class... Fields>
constexpr size_t field_count() {
  if constexpr (sizeof...(Fields) <= 8 && requires { Struct{Fields{}..., AnyField{}}; })
    return field_count<Struct, Fields..., AnyField>();
  else
    return sizeof...(Fields);
}

/// References to the members of `object`, in declaration order, as a std::tuple.
template <class Struct>
constexpr auto tie_members(Struct& object) {
  constexpr size_t n = field_count<std::remove_const_t<Struct>>();
  static_assert(n >= 1 && n <= 8, "an options or state struct holds 1 to 8 members");
  if constexpr (n == 1) {
    auto& [a] = object;
    return std::tie(a);
  } else if constexpr (n == 2) {
    auto& [a, b] = object;
    return std::tie(a, b);
  } else if constexpr (n == 3) {
    auto& [a, b, c] = object;
    return std::tie(a, b, c);
  } else if constexpr (n == 4) {
    auto& [a, b, c, d] = object;
    return std::tie(a, b, c, d);
  } else if constexpr (n == 5) {
    auto& [a, b, c, d, e] = object;
    return std::tie(a, b, c, d, e);
  } else if constexpr (n == 6) {
    auto& [a, b, c, d, e, f] = object;
    return std::tie(a, b, c, d, e, f);
  } else if constexpr (n == 7) {
    auto& [a, b, c, d, e, f, g] = object;
    return std::tie(a, b, c, d, e, f, g);
  } else {
    auto& [a, b, c, d, e, f, g, h] = object;
    return std::tie(a, b, c, d, e, f, g, h);
  }
}

/// An object of type `Struct` that is never defined: only its members' addresses are taken,
/// at compile time, to be spelled by the compiler.
template <class Struct>
struct NamingObject {
  Struct value;
};
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wundefined-var-template"
#pragma clang diagnostic ignored "-Wundefined-internal"  // a struct in an unnamed namespace
#endif
template <class Struct>
extern const NamingObject<Struct> naming_object;

/// A pointer wrapped in a class, because Clang 14 takes a pointer to a subobject as a template
/// argument only inside one.
template <class Pointer>
struct Address {
  Pointer pointer;
};
template <class Pointer>
Address(Pointer) -> Address<Pointer>;

/// The compiler's spelling of this function, `Member` included.
template <Address Member>
consteval std::string_view spelling() {
  return __PRETTY_FUNCTION__;
}

/// The member's name in a spelling(): the last identifier of the argument `Member = ...`,
/// which ends at the first ';' (GCC adds "; std::string_view = ...") or ']'.
consteval std::string_view member_in_spelling(std::string_view text) {
  auto is_identifier = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  size_t end = text.find_first_of(";]", text.find("Member = "));
  while (end > 0 && !is_identifier(text[end - 1])) --end;
  size_t begin = end;
  while (begin > 0 && is_identifier(text[begin - 1])) --begin;
  return text.substr(begin, end - begin);
}

/// The name of member `I` of `Struct`, as declared.
template <class Struct, size_t I>
consteval std::string_view member_name() {
  return member_in_spelling(
      spelling<Address{&std::get<I>(tie_members(naming_object<Struct>.value))}>());
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

/// Calls fn(name, member) for each member of `object`, in declaration order.
template <class Struct, class Fn>
void for_each_member(Struct& object, Fn&& fn) {
  using Plain = std::remove_const_t<Struct>;
  [&]<size_t... I>(std::index_sequence<I...>, auto members) {
    (fn(member_name<Plain, I>(), std::get<I>(members)), ...);
  }
  (std::make_index_sequence<field_count<Plain>()>(), tie_members(object));
}

}  // namespace tg::optim::detail
