// One handle per device for a vendor library opened at run time (cuBLAS, cuDNN): created on the
// device's first use, kept for the process, and never retried once creation failed (the failure's
// message is kept for `pix info`). A handle is used by one host thread at a time: callers hold
// mutex(device) around each call on it.
//
// Owners allocate it once and never free it (`static auto* handles = new DeviceHandles<H>()`): the
// handles outlive every static destructor, since tearing them down during exit races the CUDA
// runtime's own teardown.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pix::cuda {

template <typename Handle>
class DeviceHandles {
 public:
  // The handle of `device`; on its first call, create(device) makes it or throws a std::exception
  // saying why. Null when creation failed, then and on every later call.
  template <typename Create>
  Handle get(int device, Create&& create) {
    State& s = state(device);
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.tried) {
      s.tried = true;
      try {
        s.handle = create(device);
      } catch (const std::exception& e) {
        s.failure = e.what();
        s.handle = Handle{};
      }
    }
    return s.handle;
  }

  std::mutex& mutex(int device) { return state(device).mutex; }

  // The lowest-numbered device's creation failure, "" while none failed.
  std::string first_failure() {
    std::vector<State*> all;
    {
      std::lock_guard<std::mutex> lock(states_mutex_);
      for (auto& s : states_) all.push_back(s.get());
    }
    for (State* s : all) {
      std::lock_guard<std::mutex> lock(s->mutex);
      if (!s->failure.empty()) return s->failure;
    }
    return "";
  }

 private:
  struct State {
    std::mutex mutex;  // serializes creation and every call on the handle
    bool tried = false;
    Handle handle{};
    std::string failure;
  };

  State& state(int device) {
    std::lock_guard<std::mutex> lock(states_mutex_);
    while (static_cast<int>(states_.size()) <= device) states_.push_back(std::make_unique<State>());
    return *states_[device];
  }

  std::mutex states_mutex_;
  std::vector<std::unique_ptr<State>> states_;
};

}  // namespace pix::cuda
