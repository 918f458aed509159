// Engine errors: one exception type whose message names the problem in the user's terms
// ("pix_forward: gate p has shape (2,3) but x needs (2,4)"). The binding turns it into a JS Error.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace pix {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: PIX_CHECK(ok, "expected ", a, " got ", b).
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace pix

#define PIX_CHECK(cond, ...)                          \
  do {                                                \
    if (!(cond)) throw ::pix::Error(::pix::concat(__VA_ARGS__)); \
  } while (0)
