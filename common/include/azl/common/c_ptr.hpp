#pragma once

#include <memory>

namespace azl
{

// Calls a C library's free function; the deleter of UniqueCPtr.
template <auto Fn>
struct CDeleter
{
    template <class T>
    void operator()(T* p) const noexcept
    {
        Fn(p); // NOLINT(cppcoreguidelines-no-malloc): this deleter is the RAII owner
    }
};

// unique_ptr that releases a C handle with its library's own free function.
template <class T, auto Fn>
using UniqueCPtr = std::unique_ptr<T, CDeleter<Fn>>;

} // namespace azl
