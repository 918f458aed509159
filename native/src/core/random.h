// Counter-based randomness: a value is a pure function of (seed, index), so results are the same
// whatever the thread count or the order of evaluation. Used for initialisation and dropout masks.
#pragma once

#include <cstdint>
#include <string>

// The hash and the uniform are also compiled for the device, so CUDA dropout draws the very masks
// the CPU draws.
#ifdef __CUDACC__
#define PIX_HOST_DEVICE __host__ __device__
#else
#define PIX_HOST_DEVICE
#endif

namespace pix {

// SplitMix64 finaliser: a strong 64-bit mix of one word.
PIX_HOST_DEVICE inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// FNV-1a of a string: a stream id per tensor name.
inline uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

// A double in [0, 1) from 53 random bits.
PIX_HOST_DEVICE inline double unit_interval(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace pix
