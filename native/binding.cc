// Node-API glue: converts arguments, runs waiting threads, throws errors.
// Every OS call goes through lock_os.h; validation of user input happens in
// TypeScript (src/) before anything reaches this file.
//
// JavaScript surface: functions on a handle, the number open() returns (a
// file descriptor on POSIX, a HANDLE value on Windows).
//   open(path: string, followSymlinks: boolean, readOnlyFallback: boolean, lockNow?: boolean): number
//                                    opens/creates the file (read-only if refused and allowed);
//                                    with lockNow (true: exclusive, false: shared) also takes the
//                                    lock without waiting, or closes it again and returns -1 (busy)
//   tryLock(handle, exclusive, path): boolean        never waits
//   unlock(handle, path): void
//   identity(handle, path): string                   "device:inode" (or volume:index)
//   waitAsync(handle, exclusive, callback, path)     blocks on a dedicated thread; callback(error|null, acquired)
//   waitSync(handle, exclusive, timeoutMs, path): boolean
//   close(handle): void                              cancels a pending wait, closes; a closed handle is ignored
// Every function but close() throws "lock handle is closed" for a handle
// this environment does not have open. `path` (the file's, as opened) is only
// read to word an error: the addon keeps no copy of it per open file.
//
// Why numbers and not one wrapped object per file: a wrapped object costs a
// weak reference and a finalizer per lock, about as much as the lock itself.
// The safety net for a lock that JavaScript drops lives in src/acquire.ts
// (a FinalizationRegistry that closes the handle). Here, every open handle
// is in its environment's table, so an environment cleanup hook closes what
// is still open when a worker thread exits (or the process ends).
#include <napi.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

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
// How long a waiting thread with nothing to wait for stays parked for the
// next wait before it ends.
constexpr auto kIdleThreadLife = std::chrono::seconds(10);

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

// A handle as a JavaScript number and back. Windows HANDLE values fit in 32
// bits (documented, so that 32- and 64-bit processes can share them).
[[maybe_unused]] double HandleToNumber(int fd) { return fd; }
[[maybe_unused]] double HandleToNumber(void* handle) {
  return static_cast<double>(reinterpret_cast<std::uintptr_t>(handle));
}
[[maybe_unused]] void NumberToHandle(double number, int* fd) { *fd = static_cast<int>(number); }
[[maybe_unused]] void NumberToHandle(double number, void** handle) {
  *handle = reinterpret_cast<void*>(static_cast<std::uintptr_t>(number));
}

// One blocking wait, shared by the JavaScript thread and its waiting thread
// (a thread of WaiterThreads: nobody joins it, so a hand-off never waits
// for a thread to exit).
struct Wait {
  Wait(os::NativeHandle fd, os::Mode mode) : fd(fd), mode(mode), slot(os::NewWaitSlot()) {}
  ~Wait() { os::DeleteWaitSlot(slot); }
  Wait(const Wait&) = delete;
  Wait& operator=(const Wait&) = delete;

  const os::NativeHandle fd;
  const os::Mode mode;
  os::WaitSlot* const slot;
  std::atomic<bool> cancelled{false};
  std::string path;  // for an error the wait ends with

  // JavaScript thread only: close() stopped caring about the outcome.
  bool abandoned = false;

  std::mutex mutex;
  std::condition_variable finished_cv;
  // Guarded by mutex.
  bool finished = false;
  os::Result result;
  bool owns_fd = false;     // the handle gave up on a thread it could not stop
  bool can_notify = false;  // `notify` is alive and still counts this thread
  napi_threadsafe_function notify = nullptr;
};

// Every handle one environment (the main thread or one worker) has open,
// with the wait in progress on it, if any.
using Files = std::unordered_map<os::NativeHandle, std::shared_ptr<Wait>>;

struct Realm {
  Files files;
};

void RunWait(std::shared_ptr<Wait> wait) {
  // What the JavaScript thread gets with the outcome (it keeps the Wait
  // alive until delivered). Allocated before blocking: a thread's first
  // allocation sets up its malloc arena, which must not delay a hand-off.
  auto delivery = std::make_unique<std::shared_ptr<Wait>>(wait);
  os::Result result = os::WaitLock(wait->fd, wait->mode, wait->slot, &wait->cancelled);
  std::lock_guard<std::mutex> lock(wait->mutex);
  wait->result = result;
  wait->finished = true;
  if (wait->owns_fd) os::Close(wait->fd);
  if (wait->can_notify) {
    if (napi_call_threadsafe_function(wait->notify, delivery.get(), napi_tsfn_nonblocking) == napi_ok) {
      delivery.release();  // DeliverWait frees it
    }
    napi_release_threadsafe_function(wait->notify, napi_tsfn_release);
    wait->can_notify = false;
  }
  wait->finished_cv.notify_all();
}

// The waiting threads of the process (every environment's): a thread whose
// wait ended parks for the next one, so that a wait neither starts a thread
// nor has one tear itself down while the hand-off is on the clock (a thread
// exiting competes for the CPU the woken JavaScript thread needs).
class WaiterThreads {
 public:
  // Never destroyed: parked threads use it until the process ends.
  static WaiterThreads& Instance() {
    static WaiterThreads* threads = new WaiterThreads();
    return *threads;
  }

  // Runs RunWait(wait) on a parked thread, or on a new one (std::system_error
  // when none can be started).
  void Run(const std::shared_ptr<Wait>& wait) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!parked_.empty()) {
      Parked* thread = parked_.back();
      parked_.pop_back();
      thread->job = wait;
      thread->wake.notify_one();
      return;
    }
    std::thread([this, wait] { Work(wait); }).detach();
  }

 private:
  struct Parked {
    std::condition_variable wake;
    std::shared_ptr<Wait> job;  // set (under mutex_) by the Run that takes this thread
  };

  void Work(std::shared_ptr<Wait> job) {
    Parked self;
    for (;;) {
      RunWait(std::move(job));
      std::unique_lock<std::mutex> lock(mutex_);
      parked_.push_back(&self);
      if (!self.wake.wait_for(lock, kIdleThreadLife, [&] { return self.job != nullptr; })) {
        parked_.erase(std::find(parked_.begin(), parked_.end(), &self));  // nobody took it
        return;
      }
      job = std::move(self.job);
    }
  }

  std::mutex mutex_;
  std::vector<Parked*> parked_;
};

// Cancels a wait and interrupts its thread until WaitLock returns, for at most
// kStopBudget. Returns true when the thread finished; false when it is still
// blocked, in which case it now owns the descriptor.
bool StopWait(Wait& wait) {
  wait.cancelled = true;
  const auto deadline = Clock::now() + kStopBudget;
  std::unique_lock<std::mutex> lock(wait.mutex);
  while (!wait.finished && Clock::now() < deadline) {
    if (!os::Interrupt(wait.slot)) break;  // nothing can reach it: do not wait for it
    wait.finished_cv.wait_for(lock, kInterruptInterval);
  }
  if (wait.finished) return true;
  wait.owns_fd = true;
  if (wait.can_notify) {  // do not keep the event loop alive for it
    napi_release_threadsafe_function(wait.notify, napi_tsfn_release);
    wait.can_notify = false;
  }
  return false;
}

// Cancels the file's wait, releases its lock and closes it; forgets it.
void CloseFile(Files& files, Files::iterator it) {
  const os::NativeHandle fd = it->first;
  bool close_here = true;
  if (std::shared_ptr<Wait> wait = std::move(it->second)) {
    wait->abandoned = true;
    close_here = StopWait(*wait);  // else the waiting thread closes it
  }
  files.erase(it);
  if (close_here) {
    // Unlock explicitly rather than trust close(): Windows releases the
    // locks of a closed handle only "after a delay", and on POSIX a copy of
    // the descriptor (fork without exec) would keep a flock alive.
    os::Unlock(fd);  // not locked is fine: nothing to release
    os::Close(fd);
  }
}

// Every function gets its environment's Realm as its data (cheaper than
// instance data, which is one more Node-API call per crossing).
Realm& RealmOf(const Napi::CallbackInfo& info) {
  return *static_cast<Realm*>(info.Data());
}

// The open file for argument 0, or false with a JavaScript exception.
// Arguments are read with napi_get_value_* and their status, not checked
// with napi_typeof first: a type check costs as much as the read, and
// tryLock() reads five arguments (src/ has validated them already).
bool NumberArgument(const Napi::CallbackInfo& info, size_t index, double* out) {
  return napi_get_value_double(info.Env(), info[index], out) == napi_ok;
}

bool BooleanArgument(const Napi::CallbackInfo& info, size_t index, bool* out) {
  return napi_get_value_bool(info.Env(), info[index], out) == napi_ok;
}

// A number open() can have returned; -1 (never open) is how src/ names no file.
bool HandleArgument(const Napi::CallbackInfo& info, os::NativeHandle* fd) {
  double number;
  if (!NumberArgument(info, 0, &number) || !(number >= 0 && number <= 4294967295.0)) return false;
  NumberToHandle(number, fd);
  return true;
}

bool FindFile(const Napi::CallbackInfo& info, Files::iterator* out) {
  Napi::Env env = info.Env();
  os::NativeHandle fd;
  if (!HandleArgument(info, &fd)) {
    Napi::TypeError::New(env, "handle must be a number").ThrowAsJavaScriptException();
    return false;
  }
  Files& files = RealmOf(info).files;
  *out = files.find(fd);
  if (*out == files.end()) {
    Napi::Error::New(env, "lock handle is closed").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// The open file for argument 0 with no wait running, or false with an exception.
bool FindIdleFile(const Napi::CallbackInfo& info, Files::iterator* out) {
  if (!FindFile(info, out)) return false;
  if ((*out)->second) {
    Napi::Error::New(info.Env(), "lock handle is already waiting").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// The path argument at `index`, for an error message.
std::string PathArgument(const Napi::CallbackInfo& info, size_t index) {
  return info[index].IsString() ? info[index].As<Napi::String>().Utf8Value() : std::string();
}

bool ModeArgument(const Napi::CallbackInfo& info, os::Mode* mode) {
  bool exclusive;
  if (!BooleanArgument(info, 1, &exclusive)) {
    Napi::TypeError::New(info.Env(), "exclusive must be a boolean").ThrowAsJavaScriptException();
    return false;
  }
  *mode = exclusive ? os::Mode::kExclusive : os::Mode::kShared;
  return true;
}

// A string argument as UTF-8, on the stack when it fits (any usual path
// does), so that opening a lock file allocates nothing.
class Utf8Argument {
 public:
  // ok() is false when `value` is not a string.
  Utf8Argument(Napi::Env env, Napi::Value value) {
    // The UTF-16 length costs nothing, and bounds the UTF-8 one (3 bytes per
    // unit at most): a short string is converted in one pass.
    size_t units = 0;
    if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok) return;
    size_t length = 0;
    char* buffer = stack_;
    if (units * 3 >= sizeof stack_) {
      napi_get_value_string_utf8(env, value, nullptr, 0, &length);
      heap_.resize(length);
      buffer = &heap_[0];  // std::string keeps room for the terminating NUL
    }
    napi_get_value_string_utf8(env, value, buffer, buffer == stack_ ? sizeof stack_ : length + 1, &length);
    data_ = buffer;
  }
  Utf8Argument(const Utf8Argument&) = delete;
  Utf8Argument& operator=(const Utf8Argument&) = delete;
  bool ok() const { return data_ != nullptr; }
  const char* c_str() const { return data_; }

 private:
  char stack_[1024];
  std::string heap_;
  const char* data_ = nullptr;
};

// One call for open + tryLock: tryLock() is an open, a lock and a close, and
// each crossing into the addon costs about as much as a system call.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Utf8Argument path(env, info[0]);
  bool follow_symlinks, read_only_fallback, exclusive = false;
  const bool lock_now = info.Length() > 3;
  if (!path.ok() || !BooleanArgument(info, 1, &follow_symlinks) ||
      !BooleanArgument(info, 2, &read_only_fallback) || (lock_now && !BooleanArgument(info, 3, &exclusive))) {
    Napi::TypeError::New(
        env, "open(path: string, followSymlinks: boolean, readOnlyFallback: boolean, lockNow?: boolean)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  os::NativeHandle fd;
  os::Result result = os::Open(path.c_str(), follow_symlinks, read_only_fallback, &fd);
  if (result.status != os::Status::kOk) {
    OsError(env, result.error, "open", path.c_str()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (lock_now) {
    result = os::TryLock(fd, exclusive ? os::Mode::kExclusive : os::Mode::kShared);
    if (result.status != os::Status::kOk) {
      os::Close(fd);
      if (result.status == os::Status::kBusy) return Napi::Number::New(env, -1);
      OsError(env, result.error, "flock", path.c_str()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  RealmOf(info).files.emplace(fd, nullptr);
  return Napi::Number::New(env, HandleToNumber(fd));
}

Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Files::iterator file;
  os::Mode mode;
  if (!FindIdleFile(info, &file) || !ModeArgument(info, &mode)) return env.Undefined();
  os::Result result = os::TryLock(file->first, mode);
  if (result.status == os::Status::kError) {
    OsError(env, result.error, "flock", PathArgument(info, 2)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, result.status == os::Status::kOk);
}

Napi::Value Unlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Files::iterator file;
  if (!FindIdleFile(info, &file)) return env.Undefined();
  os::Result result = os::Unlock(file->first);
  if (result.status == os::Status::kError) {
    OsError(env, result.error, "flock", PathArgument(info, 1)).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

Napi::Value Identity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Files::iterator file;
  if (!FindFile(info, &file)) return env.Undefined();
  std::string identity;
  os::Result result = os::Identity(file->first, &identity);
  if (result.status == os::Status::kError) {
    OsError(env, result.error, "fstat", PathArgument(info, 1)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, identity);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  os::NativeHandle fd;
  if (HandleArgument(info, &fd)) {
    Files& files = RealmOf(info).files;
    auto it = files.find(fd);
    if (it != files.end()) CloseFile(files, it);
  }
  return env.Undefined();
}

// Starts the waiting thread; false with a JavaScript exception if it cannot.
bool StartThread(Napi::Env env, const std::shared_ptr<Wait>& wait, const std::string& path) {
  try {
    WaiterThreads::Instance().Run(wait);
  } catch (const std::system_error& failure) {
    OsError(env, failure.code().value(), "pthread_create", path).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Runs on the JavaScript thread for every finished async wait (and with a
// null env for a delivery still queued when the environment is torn down).
void DeliverWait(napi_env raw_env, napi_value raw_callback, void* realm, void* data) {
  std::unique_ptr<std::shared_ptr<Wait>> delivery(static_cast<std::shared_ptr<Wait>*>(data));
  if (raw_env == nullptr || raw_callback == nullptr) return;
  Napi::Env env(raw_env);
  Wait& wait = **delivery;
  Napi::Value error = env.Null();
  bool acquired = false;
  if (!wait.abandoned) {
    Files& files = static_cast<Realm*>(realm)->files;
    auto it = files.find(wait.fd);
    if (it != files.end() && it->second.get() == &wait) {
      it->second.reset();
      os::Result result;
      {
        std::lock_guard<std::mutex> lock(wait.mutex);
        result = wait.result;
      }
      acquired = result.status == os::Status::kOk;
      if (result.status == os::Status::kError) {
        error = OsError(env, result.error, "flock", wait.path).Value();
      }
    }
  }
  Napi::Function(env, raw_callback).Call({error, Napi::Boolean::New(env, acquired)});
}

// Frees what the threadsafe function kept of its wait; from then on the
// waiting thread must not use it.
void FinalizeNotify(napi_env, void* data, void*) {
  std::unique_ptr<std::shared_ptr<Wait>> kept(static_cast<std::shared_ptr<Wait>*>(data));
  std::lock_guard<std::mutex> lock((*kept)->mutex);
  (*kept)->can_notify = false;
}

Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Files::iterator file;
  os::Mode mode;
  if (!FindIdleFile(info, &file) || !ModeArgument(info, &mode)) return env.Undefined();
  if (!info[2].IsFunction()) {
    Napi::TypeError::New(env, "callback must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto wait = std::make_shared<Wait>(file->first, mode);
  wait->path = PathArgument(info, 3);
  auto* kept = new std::shared_ptr<Wait>(wait);
  napi_status status = napi_create_threadsafe_function(
      env, info[2], nullptr, Napi::String::New(env, "jitLockWait"), 0, 1, kept, FinalizeNotify,
      &RealmOf(info), DeliverWait, &wait->notify);
  if (status != napi_ok) {
    delete kept;
    Napi::Error::New(env, "could not create the wait's notifier").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  wait->can_notify = true;
  if (!StartThread(env, wait, wait->path)) {
    wait->can_notify = false;
    napi_release_threadsafe_function(wait->notify, napi_tsfn_release);
    return env.Undefined();
  }
  file->second = std::move(wait);
  return env.Undefined();
}

Napi::Value WaitSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Files::iterator file;
  os::Mode mode;
  if (!FindIdleFile(info, &file) || !ModeArgument(info, &mode)) return env.Undefined();
  double timeout_ms;
  if (!NumberArgument(info, 2, &timeout_ms)) {
    Napi::TypeError::New(env, "timeoutMs must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto wait = std::make_shared<Wait>(file->first, mode);
  if (!StartThread(env, wait, PathArgument(info, 3))) return env.Undefined();
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
  if (!finished && !StopWait(*wait)) {
    // The waiting thread now owns the descriptor and closes it.
    RealmOf(info).files.erase(file);
    return Napi::Boolean::New(env, false);
  }
  os::Result result;
  {
    std::lock_guard<std::mutex> lock(wait->mutex);
    result = wait->result;  // kOk also if it got the lock just before the cancel
  }
  if (result.status == os::Status::kError) {
    OsError(env, result.error, "flock", PathArgument(info, 3)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, result.status == os::Status::kOk);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto realm = std::make_shared<Realm>();
  env.SetInstanceData(new std::shared_ptr<Realm>(realm));  // freed with the environment
  // A worker thread that exits (or a process that ends) releases its locks.
  env.AddCleanupHook([realm] {
    Files& files = realm->files;
    while (!files.empty()) CloseFile(files, files.begin());
  });
  Realm* data = realm.get();
  exports.Set("open", Napi::Function::New<Open>(env, "open", data));
  exports.Set("tryLock", Napi::Function::New<TryLock>(env, "tryLock", data));
  exports.Set("unlock", Napi::Function::New<Unlock>(env, "unlock", data));
  exports.Set("identity", Napi::Function::New<Identity>(env, "identity", data));
  exports.Set("waitAsync", Napi::Function::New<WaitAsync>(env, "waitAsync", data));
  exports.Set("waitSync", Napi::Function::New<WaitSync>(env, "waitSync", data));
  exports.Set("close", Napi::Function::New<Close>(env, "close", data));
  return exports;
}

}  // namespace

NODE_API_MODULE(jit_lock, Init)
