// NCCL for data parallelism on CUDA (distributed/cuda/nccl_comm.h): ncclLibraryStatus() says
// whether libnccl.so.2 can be loaded (any build), ncclUniqueId() makes the 128-byte id rank 0
// hands to the others, and NcclComm joins a communicator and runs its collectives on the engine's
// stream of its device. Arguments are checked before anything needs CUDA or NCCL, so their errors
// read the same in every build; a build without CUDA then refuses, and one whose machine lacks
// NCCL says what is missing.
//
//   new NcclComm(id, worldSize, rank, deviceIndex)      blocks until every rank has joined
//   comm.allReduceSum(tensor), comm.broadcast(tensor, root = 0)
//                                                       in place (f32/bf16 on the comm's device), queued
//   comm.allReduceGradients(model, buckets, { scale, extras = [] }) -> Promise<number[]>
//                                                       one collective per bucket of parameter keys
//   comm.backwardAllReduce(model, dlogits, buckets, { scale, extras = [] }) -> Promise<number[]>
//                                                       the backward, each bucket's collective
//                                                       started as soon as its gradients are final
//   comm.syncBatchNorm(model, on = true)               SyncBatchNorm through this communicator
//   comm.broadcastState(model, buckets, root = 0) -> Promise<void>
//                                                       one collective per bucket of f32 state keys
//   comm.destroy(), comm.abort()                         free it, waiting for the queued work or not
//
// The model-level calls run on a libuv worker thread (the last bucket's extras are read back, which
// waits for every rank) and mark the model busy meanwhile, as forward/backward do.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "binding/errors.h"
#include "binding/js_model.h"
#include "binding/js_tensor.h"
#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "distributed/cuda/gradient_averager.h"
#include "distributed/cuda/nccl_comm.h"
#include "distributed/nccl_library.h"
#include "nn/model.h"

namespace pix::binding {
namespace {

thread_local Napi::FunctionReference* comm_constructor = nullptr;

int integer_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name, int min, int max) {
  const Napi::Value value = info.Length() > index ? info[index] : info.Env().Undefined();
  const double d = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d == std::floor(d) && d >= min && d <= max)) {
    throw ArgumentError{max == INT32_MAX ? concat(fn, ": '", name, "' must be an integer >= ", min)
                                         : concat(fn, ": '", name, "' must be an integer in [", min, ", ", max, "]")};
  }
  return static_cast<int>(d);
}

nccl::UniqueId unique_id_arg(const Napi::Value& value, const char* fn) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      value.As<Napi::Uint8Array>().ByteLength() != nccl::kUniqueIdBytes) {
    throw ArgumentError{concat(fn, ": 'id' must be the ", nccl::kUniqueIdBytes, "-byte Buffer ncclUniqueId() returns")};
  }
  const Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  nccl::UniqueId id{};
  std::memcpy(id.internal, bytes.Data(), nccl::kUniqueIdBytes);
  return id;
}

// buckets: string[][] of state keys, each resolved against the model.
std::vector<std::vector<nn::StateEntry*>> buckets_arg(const Napi::Value& value, nn::Model& model, const char* fn) {
  if (!value.IsArray()) throw ArgumentError{concat(fn, ": 'buckets' must be an array of arrays of state keys")};
  const Napi::Array outer = value.As<Napi::Array>();
  std::vector<std::vector<nn::StateEntry*>> out(outer.Length());
  for (uint32_t b = 0; b < outer.Length(); ++b) {
    const Napi::Value inner = outer.Get(b);
    if (!inner.IsArray()) throw ArgumentError{concat(fn, ": 'buckets' must be an array of arrays of state keys")};
    const Napi::Array keys = inner.As<Napi::Array>();
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      const Napi::Value key = keys.Get(k);
      if (!key.IsString()) throw ArgumentError{concat(fn, ": bucket ", b, " holds a key that is not a string")};
      const std::string name = key.As<Napi::String>().Utf8Value();
      nn::StateEntry* entry = model.state().find(name);
      PIX_CHECK(entry != nullptr, fn, ": '", name, "' is not a key of ", model.config().name);
      out[b].push_back(entry);
    }
  }
  return out;
}

struct GradientOptions {
  float scale = 1.f;
  std::vector<float> extras;
};

// { scale, extras = [] } of the gradient averages: scale finite, at most kMaxExtras numbers.
GradientOptions gradient_options(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  const Napi::Object options = object_arg(info, index, fn, "options");
  const double scale = number_field(options, "scale", NAN, fn);
  PIX_CHECK(std::isfinite(scale), fn, ": 'scale' must be a finite number");
  GradientOptions out;
  out.scale = static_cast<float>(scale);
  const Napi::Value extras = options.Get("extras");
  if (!extras.IsUndefined()) {
    if (!extras.IsArray()) throw ArgumentError{concat(fn, ": 'extras' must be an array of numbers")};
    const Napi::Array array = extras.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      if (!array.Get(i).IsNumber()) throw ArgumentError{concat(fn, ": 'extras' must be an array of numbers")};
      out.extras.push_back(static_cast<float>(array.Get(i).As<Napi::Number>().DoubleValue()));
    }
  }
  PIX_CHECK(out.extras.size() <= static_cast<size_t>(nccl::Communicator::kMaxExtras), fn, ": at most ",
            nccl::Communicator::kMaxExtras, " extras, got ", out.extras.size());
  return out;
}

Napi::Value LibraryStatus(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const nccl::LibraryStatus status = nccl::library_status();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("available", status.available);
    out.Set("path", status.available ? Napi::Value(Napi::String::New(env, status.path)) : env.Null());
    out.Set("version", status.available ? Napi::Value(Napi::String::New(env, status.version)) : env.Null());
    out.Set("reason", status.available ? env.Null() : Napi::Value(Napi::String::New(env, status.reason)));
    return out;
  });
}

Napi::Value UniqueId(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    nccl::UniqueId id{};
    PIX_CUDA_CALL(id = nccl::unique_id());
    return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(id.internal), nccl::kUniqueIdBytes);
  });
}

// A model-level collective on a worker thread; holds the model and the communicator alive.
class CollectiveWork : public Napi::AsyncWorker {
 public:
  CollectiveWork(Napi::Env env, ModelHandle model, std::shared_ptr<nccl::Communicator> comm,
                 std::shared_ptr<std::atomic<bool>> comm_busy, std::function<std::vector<float>(nccl::Communicator&)> job)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), model_(std::move(model)),
        comm_(std::move(comm)), comm_busy_(std::move(comm_busy)), job_(std::move(job)) {
    model_.busy->store(true);
    comm_busy_->store(true);
  }
  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = job_(*comm_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    release();
    Napi::Array out = Napi::Array::New(Env(), result_.size());
    for (size_t i = 0; i < result_.size(); ++i) out.Set(static_cast<uint32_t>(i), static_cast<double>(result_[i]));
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& error) override {
    release();
    deferred_.Reject(error.Value());
  }

 private:
  void release() {
    model_.busy->store(false);
    comm_busy_->store(false);
  }

  Napi::Promise::Deferred deferred_;
  ModelHandle model_;
  std::shared_ptr<nccl::Communicator> comm_;
  std::shared_ptr<std::atomic<bool>> comm_busy_;
  std::function<std::vector<float>(nccl::Communicator&)> job_;
  std::vector<float> result_;
};

class JsNcclComm : public Napi::ObjectWrap<JsNcclComm> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(
        env, "NcclComm",
        {InstanceAccessor<&JsNcclComm::Rank>("rank"), InstanceAccessor<&JsNcclComm::WorldSize>("worldSize"),
         InstanceAccessor<&JsNcclComm::DeviceName>("device"), InstanceAccessor<&JsNcclComm::LastOverlap>("lastOverlap"),
         InstanceMethod<&JsNcclComm::AllReduceSum>("allReduceSum"), InstanceMethod<&JsNcclComm::Broadcast>("broadcast"),
         InstanceMethod<&JsNcclComm::AllReduceGradients>("allReduceGradients"),
         InstanceMethod<&JsNcclComm::BackwardAllReduce>("backwardAllReduce"),
         InstanceMethod<&JsNcclComm::SyncBatchNorm>("syncBatchNorm"),
         InstanceMethod<&JsNcclComm::BroadcastState>("broadcastState"), InstanceMethod<&JsNcclComm::Destroy>("destroy"),
         InstanceMethod<&JsNcclComm::Abort>("abort")});
    comm_constructor = new Napi::FunctionReference(Napi::Persistent(cls));
    exports.Set("NcclComm", cls);
    exports.Set("ncclLibraryStatus", Napi::Function::New<LibraryStatus>(env, "ncclLibraryStatus"));
    exports.Set("ncclUniqueId", Napi::Function::New<UniqueId>(env, "ncclUniqueId"));
  }

  explicit JsNcclComm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsNcclComm>(info) {
    guarded(info.Env(), [&] {
      const char* fn = "new NcclComm";
      const nccl::UniqueId id = unique_id_arg(info.Length() > 0 ? info[0] : info.Env().Undefined(), fn);
      world_size_ = integer_arg(info, 1, fn, "worldSize", 1, INT32_MAX);
      rank_ = integer_arg(info, 2, fn, "rank", 0, world_size_ - 1);
      device_ = integer_arg(info, 3, fn, "deviceIndex", 0, INT32_MAX);
      PIX_CUDA_CALL(comm_ = std::make_shared<nccl::Communicator>(id, world_size_, rank_, device_));
    });
  }

 private:
  // The live communicator, refused while a model-level collective of it runs on a worker thread
  // (NCCL takes a communicator's calls from one thread at a time).
  nccl::Communicator& comm(const char* fn) {
    PIX_CHECK(comm_ && comm_->alive(), "NcclComm.", fn, ": the communicator was destroyed");
    PIX_CHECK(!busy_->load(), "NcclComm.", fn, ": a collective of this communicator is still running; await it first");
    return *comm_;
  }

  Napi::Value Rank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), rank_); }
  Napi::Value WorldSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), world_size_); }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), Device::cuda(device_).str());
  }

  Napi::Value AllReduceSum(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const Tensor& tensor = JsTensor::FromValue(info[0], "NcclComm.allReduceSum", "tensor");
      PIX_CUDA_CALL(comm("allReduceSum").all_reduce_sum(tensor));
      return info.Env().Undefined();
    });
  }

  Napi::Value Broadcast(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "NcclComm.broadcast";
      const Tensor& tensor = JsTensor::FromValue(info[0], fn, "tensor");
      const int root = info.Length() > 1 && !info[1].IsUndefined() ? integer_arg(info, 1, fn, "root", 0, world_size_ - 1) : 0;
      PIX_CUDA_CALL(comm("broadcast").broadcast(tensor, root));
      return info.Env().Undefined();
    });
  }

  // allReduceGradients(model, buckets, { scale, extras = [] }) -> Promise<number[]>: each bucket's
  // gradients summed over the ranks with one collective and multiplied by scale; the extras ride in
  // the last bucket (an empty bucket is added for them when there is none) and come back summed.
  Napi::Value AllReduceGradients(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "NcclComm.allReduceGradients";
      ModelHandle model = model_from_value(info[0], fn);
      PIX_CHECK(!model.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
      const auto entries = buckets_arg(info.Length() > 1 ? info[1] : info.Env().Undefined(), *model.model, fn);
      const GradientOptions options = gradient_options(info, 2, fn);
      std::vector<std::vector<Tensor>> grads(entries.size());
      for (size_t b = 0; b < entries.size(); ++b) {
        for (nn::StateEntry* e : entries[b]) {
          PIX_CHECK(e->is_parameter() && e->grad.defined(), fn, ": '", e->key, "' is a buffer and has no gradient");
          grads[b].push_back(e->grad);
        }
      }
      if (grads.empty() && !options.extras.empty()) grads.emplace_back();
      std::shared_ptr<nccl::Communicator> shared;
      PIX_CUDA_CALL(comm("allReduceGradients"); shared = comm_);
      auto* work = new CollectiveWork(info.Env(), model, shared, busy_, [grads, options](nccl::Communicator& c) {
        std::vector<float> summed;
        for (size_t b = 0; b < grads.size(); ++b) {
          const bool last = b + 1 == grads.size();
          std::vector<float> out;
          PIX_CUDA_CALL(out = c.all_reduce_flat(grads[b], options.scale, last ? options.extras : std::vector<float>{}));
          if (last) summed = std::move(out);
        }
        return summed;
      });
      Napi::Promise promise = work->promise();
      work->Queue();
      return promise;
    });
  }

  // backwardAllReduce(model, dlogits, buckets, { scale, extras = [] }) -> Promise<number[]>: the
  // model's backward (model.backward(dlogits)) with allReduceGradients' averaging overlapped: each
  // bucket goes out on the communicator's side stream as soon as the backward has finished its
  // gradients (distributed/cuda/gradient_averager.h). The same gradients, bit for bit.
  Napi::Value BackwardAllReduce(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "NcclComm.backwardAllReduce";
      ModelHandle model = model_from_value(info[0], fn);
      PIX_CHECK(!model.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
      const Tensor dlogits = JsTensor::FromValue(info.Length() > 1 ? info[1] : info.Env().Undefined(), fn, "dlogits");
      auto entries = buckets_arg(info.Length() > 2 ? info[2] : info.Env().Undefined(), *model.model, fn);
      const GradientOptions options = gradient_options(info, 3, fn);
      std::shared_ptr<nccl::Communicator> shared;
      PIX_CUDA_CALL(comm("backwardAllReduce"); shared = comm_);
      std::shared_ptr<nn::Model> net = model.model;
      std::shared_ptr<Overlap> overlap = overlap_;
      *overlap = Overlap{};
      auto* work = new CollectiveWork(info.Env(), model, shared, busy_, [net, dlogits, entries, options, overlap](nccl::Communicator& c) {
        std::vector<float> summed;
        PIX_CUDA_CALL({
          nccl::GradientAverager averager(c, entries, options.scale, options.extras);
          net->backward(dlogits.device() == net->device() ? dlogits : dlogits.to(net->device()), &averager);
          overlap->sent_during_backward = averager.sent_during_backward();
          summed = averager.finish();
          overlap->buckets = averager.buckets();
        });
        return summed;
      });
      Napi::Promise promise = work->promise();
      work->Queue();
      return promise;
    });
  }

  // syncBatchNorm(model, on = true): SyncBatchNorm for the model's training forwards and backwards
  // through this communicator (nn::Model::set_batchnorm_sync); false goes back to per-process
  // statistics. The model keeps the communicator's C++ side alive; once it is destroyed, a
  // synchronised forward says so. Its training forwards and backwards then call the communicator
  // from their worker thread: as with any NCCL communicator, run no other collective of it meanwhile.
  Napi::Value SyncBatchNorm(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "NcclComm.syncBatchNorm";
      ModelHandle model = model_from_value(info[0], fn);
      PIX_CHECK(!model.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
      const bool on = info.Length() < 2 || info[1].IsUndefined() || info[1].ToBoolean().Value();
      if (!on) {
        model.model->set_batchnorm_sync(nullptr);
        return info.Env().Undefined();
      }
      PIX_CHECK(model.model->device() == Device::cuda(device_), fn, ": the model is on ", model.model->device().str(),
                ", the communicator on cuda:", device_);
      PIX_CUDA_CALL(comm("syncBatchNorm"); model.model->set_batchnorm_sync(nccl::batchnorm_sync(comm_)));
      return info.Env().Undefined();
    });
  }

  // broadcastState(model, buckets, root = 0) -> Promise<void>: rank root's values of the buckets'
  // f32 entries (parameters, BatchNorm statistics) to every rank, one collective per bucket.
  Napi::Value BroadcastState(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "NcclComm.broadcastState";
      ModelHandle model = model_from_value(info[0], fn);
      PIX_CHECK(!model.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
      const auto entries = buckets_arg(info.Length() > 1 ? info[1] : info.Env().Undefined(), *model.model, fn);
      const int root = info.Length() > 2 && !info[2].IsUndefined() ? integer_arg(info, 2, fn, "root", 0, world_size_ - 1) : 0;
      std::vector<std::vector<Tensor>> values(entries.size());
      for (size_t b = 0; b < entries.size(); ++b) {
        for (nn::StateEntry* e : entries[b]) {
          PIX_CHECK(e->value().dtype() == DType::F32, fn, ": '", e->key, "' is ", dtype_name(e->value().dtype()),
                    "; only f32 state is broadcast");
          // A receiving rank's values change: mutable_value() counts the write, so caches derived
          // from them (BatchNorm folded into convolutions) are rebuilt.
          values[b].push_back(rank_ == root ? e->value() : e->mutable_value());
        }
      }
      std::shared_ptr<nccl::Communicator> shared;
      PIX_CUDA_CALL(comm("broadcastState"); shared = comm_);
      auto* work = new CollectiveWork(info.Env(), model, shared, busy_, [values, root](nccl::Communicator& c) {
        for (const auto& bucket : values) PIX_CUDA_CALL(c.broadcast_flat(bucket, root));
        return std::vector<float>{};
      });
      Napi::Promise promise = work->promise();
      work->Queue();
      return promise;
    });
  }

  // destroy(): waits for the queued collectives, then frees the communicator; abort(): frees it
  // without waiting. Both idempotent, both refused while a model-level collective runs.
  Napi::Value Destroy(const Napi::CallbackInfo& info) { return Release(info, "destroy", false); }
  Napi::Value Abort(const Napi::CallbackInfo& info) { return Release(info, "abort", true); }

  Napi::Value Release(const Napi::CallbackInfo& info, const char* fn, bool without_waiting) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (comm_) {
        PIX_CHECK(!busy_->load(), "NcclComm.", fn, ": a collective of this communicator is still running; await it first");
        std::shared_ptr<nccl::Communicator> comm = std::move(comm_);
        PIX_CUDA_CALL(if (without_waiting) comm->abort(); else comm->destroy());
      }
      return info.Env().Undefined();
    });
  }

  // What the last backwardAllReduce overlapped: written by its worker, read once it has settled.
  struct Overlap {
    size_t buckets = 0;
    size_t sent_during_backward = 0;
  };

  // lastOverlap -> { buckets, sentDuringBackward }: of the last settled backwardAllReduce, how many
  // buckets went out while its backward still ran (the rest went after it).
  Napi::Value LastOverlap(const Napi::CallbackInfo& info) {
    Napi::Object out = Napi::Object::New(info.Env());
    const bool settled = !busy_->load();
    out.Set("buckets", static_cast<double>(settled ? overlap_->buckets : 0));
    out.Set("sentDuringBackward", static_cast<double>(settled ? overlap_->sent_during_backward : 0));
    return out;
  }

  std::shared_ptr<nccl::Communicator> comm_;
  std::shared_ptr<Overlap> overlap_ = std::make_shared<Overlap>();
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
  int world_size_ = 0;
  int rank_ = 0;
  int device_ = 0;
};

}  // namespace

void InitNccl(Napi::Env env, Napi::Object exports) { JsNcclComm::Init(env, exports); }

}  // namespace pix::binding
