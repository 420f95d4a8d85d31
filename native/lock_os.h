// The seam between the Node-API glue (binding.cc) and the operating system.
//
// Each platform implements these functions in one file of its own
// (lock_posix.cc: flock(2); lock_win32.cc: LockFileEx), chosen by the build,
// so neither the glue nor the lock logic carries #ifdefs. Nothing here knows
// about JavaScript; nothing in binding.cc calls the OS directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace jit::os {

#ifdef _WIN32
using NativeHandle = void*;  // HANDLE
#else
using NativeHandle = int;    // file descriptor
#endif

enum class Mode { kShared, kExclusive };

// Outcome of one OS call. `error` is the platform error number (errno or
// GetLastError()) when `status` is kError.
enum class Status { kOk, kBusy, kCancelled, kError };

struct Result {
  Status status = Status::kOk;
  int error = 0;
  static Result Ok() { return {Status::kOk, 0}; }
  static Result Busy() { return {Status::kBusy, 0}; }
  static Result Cancelled() { return {Status::kCancelled, 0}; }
  static Result Error(int e) { return {Status::kError, e}; }
};

// A Node-style error code ("ENOENT", "EACCES", "EISDIR", "ELOOP", ...) and a
// human message for a platform error number from Result::error.
std::string ErrorCode(int error);
std::string ErrorMessage(int error);
// The `errno` Node would report for it: negative, in libuv's numbering
// (POSIX: -errno; Windows: libuv's UV_E* value for the code ErrorCode names,
// e.g. ENOENT = -4058, and UV_UNKNOWN = -4094 for codes libuv lacks).
int ErrorNumber(int error);

// Opens (creating if missing) the lock file at `path` (UTF-8) for reading
// and writing, close-on-exec / not inheritable, never truncating, and never
// waiting: a FIFO at `path` does not block the open. Only a regular file is
// a lock file: a FIFO, socket or device is refused with the error ErrorCode
// names "EFTYPE" (a directory with EISDIR). With `follow_symlinks` false a
// symbolic link at `path` is refused (ELOOP). With `read_only_fallback`, an
// existing file that may not be opened for writing (a read-only file system,
// a mode or folder that forbids it) is opened for reading only: enough for a
// shared lock. A file that is missing and cannot be created keeps the error.
Result Open(const char* path, bool follow_symlinks, bool read_only_fallback, NativeHandle* out);
void Close(NativeHandle handle);

// Identity of the open file (device + inode, or volume serial + file
// index), so that two spellings of one path compare equal.
Result Identity(NativeHandle handle, std::string* out);

// Never waits: kOk, kBusy (held elsewhere in a conflicting mode) or kError.
Result TryLock(NativeHandle handle, Mode mode);
Result Unlock(NativeHandle handle);

// A blocking wait that another thread can interrupt.
//
// WaitLock runs on a dedicated thread (never libuv's pool). It returns kOk
// once the lock is held, kCancelled when *cancelled became true (the lock is
// then NOT held), or kError. Interrupt(slot) may be called from any thread,
// any number of times, before, during or after the wait; the glue calls it
// repeatedly until WaitLock returns, so an interrupt that lands before the
// thread enters the kernel is not lost. It returns false when it could not
// reach the thread at all (POSIX: every usable signal belongs to someone
// else); the glue then stops waiting for that thread.
struct WaitSlot;  // platform-defined
WaitSlot* NewWaitSlot();
void DeleteWaitSlot(WaitSlot* slot);
Result WaitLock(NativeHandle handle, Mode mode, WaitSlot* slot,
                const std::atomic<bool>* cancelled);
bool Interrupt(WaitSlot* slot);

}  // namespace jit::os
