// Access to the model behind a JavaScript Model object, for other binding classes (optimizers).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "nn/model.h"

namespace pix::binding {

struct ModelHandle {
  std::shared_ptr<nn::Model> model;
  std::shared_ptr<std::atomic<bool>> busy;  // set while a forward/backward runs on a worker thread
};

// The model of a JS Model object, or a TypeError naming fn.
ModelHandle model_from_value(const Napi::Value& value, const char* fn);

}  // namespace pix::binding
