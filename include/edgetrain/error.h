// Errors edgetrain reports to users. Every message names what is wrong (layer, key,
// shape, file) and what was expected. Bugs inside edgetrain hit ET_ASSERT instead.
#pragma once

#include <stdexcept>
#include <string>

namespace edgetrain {

// Base of all user-facing errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A layer, loss or optimizer type name that is not registered.
class UnknownTypeError : public Error {
 public:
  using Error::Error;
};

// A property key that the object does not know, or a value that does not parse.
class PropertyError : public Error {
 public:
  using Error::Error;
};

// Shapes that do not fit together, found when the graph is compiled.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A graph that cannot be built: a cycle, a missing input layer, a duplicate name.
class GraphError : public Error {
 public:
  using Error::Error;
};

// The model is used in the wrong order (e.g. train() before compile()).
class StateError : public Error {
 public:
  using Error::Error;
};

// A model file that cannot be read or does not describe a valid model. The message starts
// with where the problem is: "model.ini:12: ...", or the override it came from.
class ModelFileError : public Error {
 public:
  using Error::Error;
};

// Training diverged: a NaN or infinite loss.
class NumericError : public Error {
 public:
  using Error::Error;
};

// A weights or checkpoint file that cannot be written, read or matched to the model.
// The message names the file.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// A dataset that cannot be read or does not fit the model: a missing or corrupt file, a
// bad row, a label outside the classes.
class DataError : public Error {
 public:
  using Error::Error;
};

// A memory budget the model cannot train in. The message names the smallest budget that
// would work, or the setting that would make it possible.
class MemoryBudgetError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line,
                                const std::string& message);
}  // namespace detail

}  // namespace edgetrain

// Always-on internal invariant check. A failure is a bug in edgetrain, not user error.
#define ET_ASSERT(condition, message)                                                \
  do {                                                                               \
    if (!(condition))                                                                \
      ::edgetrain::detail::assert_failed(#condition, __FILE__, __LINE__, (message)); \
  } while (false)
