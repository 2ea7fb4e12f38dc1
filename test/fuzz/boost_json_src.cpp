// Boost.JSON compiled into each fuzz target (its header-only form), so the JSON parser is instrumented too: libFuzzer
// then sees coverage inside the parser and learns the JSON syntax instead of mutating blindly around it, and ASan
// checks it. These definitions take precedence over the shared libboost_json the project libraries link (same Boost
// version, same code), so every call in the target goes here.
#include <boost/json/src.hpp>
