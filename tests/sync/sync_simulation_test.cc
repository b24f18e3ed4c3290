#include <catch_amalgamated.hpp>
