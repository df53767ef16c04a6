// result<T, E>: the explicit success-or-error value returned by every internal
// surface (no exceptions on the data path). A minimal stand-in for C++23's
// std::expected, which g++ 12 offers only under -std=c++23.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace mvnf {

template <class E>
struct unexpected {
    E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
[[nodiscard]] unexpected<std::decay_t<E>> fail(E&& e) {
    return {std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] result {
public:
    using value_type = T;
    using error_type = E;

    template <class U = T, std::enable_if_t<std::is_constructible_v<T, U&&>, int> = 0>
    result(U&& v) : _v(std::in_place_index<0>, std::forward<U>(v)) {}
    template <class G>
    result(unexpected<G> e) : _v(std::in_place_index<1>, std::move(e.error)) {}

    bool has_value() const { return _v.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(_v); }
    const T& value() const& { assert(has_value()); return std::get<0>(_v); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E& error() & { assert(!has_value()); return std::get<1>(_v); }
    const E& error() const& { assert(!has_value()); return std::get<1>(_v); }

private:
    std::variant<T, E> _v;
};

// result<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] result<void, E> {
public:
    result() = default;
    template <class G>
    result(unexpected<G> e) : _err(std::move(e.error)), _ok(false) {}

    bool has_value() const { return _ok; }
    explicit operator bool() const { return _ok; }
    void value() const { assert(_ok); }
    const E& error() const { assert(!_ok); return _err; }

private:
    E _err{};
    bool _ok = true;
};

}  // namespace mvnf
