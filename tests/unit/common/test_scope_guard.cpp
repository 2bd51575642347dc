#include <azl/common/scope_guard.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

TEST_CASE("a scope guard undoes a step that did not finish", "[scope_guard]")
{
    int undone = 0;
    try
    {
        azl::ScopeGuard undo([&] { ++undone; });
        throw std::runtime_error("the step failed");
    }
    catch (const std::runtime_error&)
    {
    }
    CHECK(undone == 1);
}

TEST_CASE("a dismissed scope guard does nothing", "[scope_guard]")
{
    int undone = 0;
    {
        azl::ScopeGuard undo([&] { ++undone; });
        undo.dismiss();
    }
    CHECK(undone == 0);
}

TEST_CASE("what the undo action throws does not replace the step's error", "[scope_guard]")
{
    const auto step = []
    {
        azl::ScopeGuard undo([] { throw std::logic_error("rollback failed too"); });
        throw std::runtime_error("the step failed");
    };
    CHECK_THROWS_WITH(step(), "the step failed");
}
