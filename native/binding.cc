// Node-API glue: converts arguments, runs waiting threads, throws errors.
// Every OS call goes through lock_os.h; validation of user input happens in
// TypeScript (src/lock) before anything reaches this file.
//
// JavaScript surface (one class):
//   new LockHandle(path: string, followSymlinks: boolean, readOnlyFallback?: boolean)
//                                    opens/creates the file (read-only if refused and allowed)
//   tryLock(exclusive): boolean      never waits
//   unlock(): void
//   identity(): string               "device:inode" (or volume:index)
//   waitAsync(exclusive, callback)   blocks on a dedicated thread; callback(error|null, acquired)
//   waitSync(exclusive, timeoutMs): boolean
//   close(): void                    cancels a pending wait, closes; safe twice
//
// Release paths: close(), the garbage-collection finalizer, and an
// environment cleanup hook, so a worker thread that exits frees its locks.
#include <napi.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "lock_os.h"

namespace {

namespace os = jit::os;
using Clock = std::chrono::steady_clock;

// How long a cancel keeps interrupting a waiting thread before giving up on
// it. A thread that outlives this, or that no interrupt can reach at all
// (os::Interrupt returned false: the cancel gives up at once instead of
// blocking the JavaScript thread), takes over the descriptor: it releases
// the lock as soon as it gets it and then closes the file, so nothing
// leaks but a sleeping thread.
constexpr auto kStopBudget = std::chrono::milliseconds(50);
constexpr auto kInterruptInterval = std::chrono::microseconds(200);
// Sync waits longer than this (or infinite) wait without a deadline.
constexpr double kMaxTimedWaitMs = 2147483647.0;

class LockHandle;

Napi::Error OsError(Napi::Env env, int error, const char* syscall, const std::string& path) {
  std::string code = os::ErrorCode(error);
  std::string detail = os::ErrorMessage(error);
  if (!detail.empty()) detail[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(detail[0])));
  Napi::Error exception =
      Napi::Error::New(env, code + ": " + detail + ", " + syscall + " '" + path + "'");
  Napi::Object fields = exception.Value();
  fields.Set("code", Napi::String::New(env, code));
  fields.Set("errno", Napi::Number::New(env, os::ErrorNumber(error)));
  fields.Set("syscall", Napi::String::New(env, syscall));
  fields.Set("path", Napi::String::New(env, path));
  return exception;
}

// One blocking wait, shared by the JavaScript thread and its waiting thread.
struct Wait {
  Wait(os::NativeHandle fd, os::Mode mode) : fd(fd), mode(mode), slot(os::NewWaitSlot()) {}
  ~Wait() { os::DeleteWaitSlot(slot); }
  Wait(const Wait&) = delete;
  Wait& operator=(const Wait&) = delete;

  const os::NativeHandle fd;
  const os::Mode mode;
  os::WaitSlot* const slot;
  std::atomic<bool> cancelled{false};

  // JavaScript thread only.
  std::thread thread;
  LockHandle* owner = nullptr;  // null once the handle stopped caring about the outcome

  std::mutex mutex;
  std::condition_variable finished_cv;
  // Guarded by mutex.
  bool finished = false;
  os::Result result;
  bool owns_fd = false;     // the handle gave up on a thread it could not stop
  bool can_notify = false;  // `notify` is alive and still counts this thread
  Napi::ThreadSafeFunction notify;
};

void Deliver(Napi::Env env, Napi::Function callback, Wait& wait);

void RunWait(std::shared_ptr<Wait> wait) {
  os::Result result = os::WaitLock(wait->fd, wait->mode, wait->slot, &wait->cancelled);
  std::lock_guard<std::mutex> lock(wait->mutex);
  wait->result = result;
  wait->finished = true;
  if (wait->owns_fd) os::Close(wait->fd);
  if (wait->can_notify) {
    wait->notify.NonBlockingCall(
        [wait](Napi::Env env, Napi::Function callback) { Deliver(env, callback, *wait); });
    wait->notify.Release();
    wait->can_notify = false;
  }
  wait->finished_cv.notify_all();
}

// Cancels a wait and interrupts its thread until WaitLock returns, for at most
// kStopBudget. Returns true when the thread finished (and was joined); false
// when it is still blocked, in which case it now owns the descriptor.
bool StopWait(Wait& wait) {
  wait.cancelled = true;
  const auto deadline = Clock::now() + kStopBudget;
  std::unique_lock<std::mutex> lock(wait.mutex);
  while (!wait.finished && Clock::now() < deadline) {
    if (!os::Interrupt(wait.slot)) break;  // nothing can reach it: do not wait for it
    wait.finished_cv.wait_for(lock, kInterruptInterval);
  }
  const bool finished = wait.finished;
  if (!finished) {
    wait.owns_fd = true;
    if (wait.can_notify) {  // do not keep the event loop alive for it
      wait.notify.Release();
      wait.can_notify = false;
    }
  }
  lock.unlock();
  if (finished) {
    wait.thread.join();
  } else {
    wait.thread.detach();
  }
  return finished;
}

struct Registry {
  std::set<LockHandle*> handles;  // open or not, every live handle of one environment
};

class LockHandle : public Napi::ObjectWrap<LockHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LockHandle",
                       {InstanceMethod<&LockHandle::TryLock>("tryLock"),
                        InstanceMethod<&LockHandle::Unlock>("unlock"),
                        InstanceMethod<&LockHandle::Identity>("identity"),
                        InstanceMethod<&LockHandle::WaitAsync>("waitAsync"),
                        InstanceMethod<&LockHandle::WaitSync>("waitSync"),
                        InstanceMethod<&LockHandle::Close>("close")});
  }

  explicit LockHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LockHandle>(info) {
    Napi::Env env = info.Env();
    registry_ = *env.GetInstanceData<std::shared_ptr<Registry>>();
    registry_->handles.insert(this);
    if (!info[0].IsString() || !info[1].IsBoolean() ||
        !(info[2].IsUndefined() || info[2].IsBoolean())) {
      Napi::TypeError::New(
          env, "LockHandle(path: string, followSymlinks: boolean, readOnlyFallback?: boolean)")
          .ThrowAsJavaScriptException();
      return;
    }
    path_ = info[0].As<Napi::String>().Utf8Value();
    const bool read_only_fallback = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    os::Result result = os::Open(path_.c_str(), info[1].As<Napi::Boolean>().Value(),
                                 read_only_fallback, &fd_);
    if (result.status != os::Status::kOk) {
      OsError(env, result.error, "open", path_).ThrowAsJavaScriptException();
      return;
    }
    open_ = true;
  }

  ~LockHandle() override {
    CloseNow();
    registry_->handles.erase(this);
  }

  // Cancels a pending wait and closes the file, which releases the OS lock.
  void CloseNow() {
    if (wait_) {
      std::shared_ptr<Wait> wait = std::move(wait_);
      wait->owner = nullptr;
      if (!StopWait(*wait)) open_ = false;  // the waiting thread closes it
    }
    if (open_) {
      // Unlock explicitly rather than trust close(): Windows releases the
      // locks of a closed handle only "after a delay", and on POSIX a copy of
      // the descriptor (fork without exec) would keep a flock alive.
      os::Unlock(fd_);  // not locked is fine: nothing to release
      os::Close(fd_);
      open_ = false;
    }
  }

  // Called on the JavaScript thread when this handle's waiting thread ended.
  os::Result FinishWait() {
    std::shared_ptr<Wait> wait = std::move(wait_);
    wait->owner = nullptr;
    wait->thread.join();
    return wait->result;  // no lock needed: the thread is gone
  }

  const std::string& path() const { return path_; }

 private:
  // Throws and returns false unless the handle is open with no wait running.
  bool Usable(Napi::Env env) {
    if (!open_) {
      Napi::Error::New(env, "lock handle is closed").ThrowAsJavaScriptException();
      return false;
    }
    if (wait_) {
      Napi::Error::New(env, "lock handle is already waiting").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  static bool ModeArgument(const Napi::CallbackInfo& info, os::Mode* mode) {
    if (!info[0].IsBoolean()) {
      Napi::TypeError::New(info.Env(), "exclusive must be a boolean").ThrowAsJavaScriptException();
      return false;
    }
    *mode = info[0].As<Napi::Boolean>().Value() ? os::Mode::kExclusive : os::Mode::kShared;
    return true;
  }

  Napi::Value TryLock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    os::Mode mode;
    if (!ModeArgument(info, &mode) || !Usable(env)) return env.Undefined();
    os::Result result = os::TryLock(fd_, mode);
    if (result.status == os::Status::kError) {
      OsError(env, result.error, "flock", path_).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Boolean::New(env, result.status == os::Status::kOk);
  }

  Napi::Value Unlock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    os::Result result = os::Unlock(fd_);
    if (result.status == os::Status::kError) {
      OsError(env, result.error, "flock", path_).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  Napi::Value Identity(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    std::string identity;
    os::Result result = os::Identity(fd_, &identity);
    if (result.status == os::Status::kError) {
      OsError(env, result.error, "fstat", path_).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::String::New(env, identity);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNow();
    return info.Env().Undefined();
  }

  // Starts the waiting thread; `wait_` is set on success.
  bool StartWait(Napi::Env env, std::shared_ptr<Wait> wait) {
    wait->owner = this;
    try {
      wait->thread = std::thread(RunWait, wait);
    } catch (const std::system_error& failure) {
      OsError(env, failure.code().value(), "pthread_create", path_).ThrowAsJavaScriptException();
      return false;
    }
    wait_ = std::move(wait);
    return true;
  }

  Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    os::Mode mode;
    if (!ModeArgument(info, &mode) || !Usable(env)) return env.Undefined();
    if (!info[1].IsFunction()) {
      Napi::TypeError::New(env, "callback must be a function").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto wait = std::make_shared<Wait>(fd_, mode);
    wait->notify = Napi::ThreadSafeFunction::New(
        env, info[1].As<Napi::Function>(), "jitLockWait", 0, 1, [wait](Napi::Env) {
          std::lock_guard<std::mutex> lock(wait->mutex);
          wait->can_notify = false;  // the function is being deleted
        });
    if (env.IsExceptionPending()) return env.Undefined();
    wait->can_notify = true;
    if (!StartWait(env, wait)) {
      wait->can_notify = false;
      wait->notify.Release();
    }
    return env.Undefined();
  }

  Napi::Value WaitSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    os::Mode mode;
    if (!ModeArgument(info, &mode) || !Usable(env)) return env.Undefined();
    if (!info[1].IsNumber()) {
      Napi::TypeError::New(env, "timeoutMs must be a number").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const double timeout_ms = info[1].As<Napi::Number>().DoubleValue();
    if (!StartWait(env, std::make_shared<Wait>(fd_, mode))) return env.Undefined();
    std::shared_ptr<Wait> wait = wait_;
    bool finished;
    {
      std::unique_lock<std::mutex> lock(wait->mutex);
      auto done = [&] { return wait->finished; };
      if (std::isfinite(timeout_ms) && timeout_ms <= kMaxTimedWaitMs) {
        finished = wait->finished_cv.wait_for(
            lock, std::chrono::duration<double, std::milli>(timeout_ms), done);
      } else {
        wait->finished_cv.wait(lock, done);
        finished = true;
      }
    }
    os::Result result;
    if (finished) {
      result = FinishWait();
    } else {
      wait_.reset();
      wait->owner = nullptr;
      if (!StopWait(*wait)) {
        open_ = false;  // the waiting thread closes it
        return Napi::Boolean::New(env, false);
      }
      result = wait->result;  // kOk if it got the lock just before the cancel
    }
    if (result.status == os::Status::kError) {
      OsError(env, result.error, "flock", path_).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Boolean::New(env, result.status == os::Status::kOk);
  }

  std::string path_;
  os::NativeHandle fd_{};
  bool open_ = false;
  std::shared_ptr<Wait> wait_;
  std::shared_ptr<Registry> registry_;
};

// Runs on the JavaScript thread for every finished async wait.
void Deliver(Napi::Env env, Napi::Function callback, Wait& wait) {
  Napi::Value error = env.Null();
  bool acquired = false;
  if (LockHandle* owner = wait.owner) {
    os::Result result = owner->FinishWait();
    acquired = result.status == os::Status::kOk;
    if (result.status == os::Status::kError) {
      error = OsError(env, result.error, "flock", owner->path()).Value();
    }
  }
  callback.Call({error, Napi::Boolean::New(env, acquired)});
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto registry = std::make_shared<Registry>();
  env.SetInstanceData(new std::shared_ptr<Registry>(registry));
  // A worker thread that exits (or a process that ends) releases its locks.
  env.AddCleanupHook([registry] {
    std::set<LockHandle*> handles = registry->handles;
    for (LockHandle* handle : handles) handle->CloseNow();
  });
  exports.Set("LockHandle", LockHandle::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(jit_lock, Init)
