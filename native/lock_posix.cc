// lock_os.h on Linux and macOS: flock(2).
//
// flock locks belong to the open file description, so two opens of one file
// in one process conflict (what a lock library wants), closing an unrelated
// descriptor of the file does not drop the lock (unlike fcntl locks), and
// the Rust jit, which also uses flock, is excluded too.
#include "lock_os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mutex>

namespace jit::os {

namespace {

int LockOperation(Mode mode) {
  return mode == Mode::kExclusive ? LOCK_EX : LOCK_SH;
}

// Our error number for "not a regular file" (a FIFO, socket or device):
// negative, so it is no errno; ErrorCode names it EFTYPE, as BSD does.
constexpr int kNotRegularFile = -1;

bool IsContention(int error) {
  return error == EWOULDBLOCK || error == EAGAIN || error == EACCES;
}

// Waiting design (why not the alternatives):
// - A blocking flock on libuv's threadpool deadlocks the process once
//   waiters fill the pool, and started pool work cannot be cancelled; so each
//   wait gets a dedicated thread.
// - Polling tryLock adds about half the poll interval to every hand-off; a
//   thread blocked in the kernel wakes within tens of microseconds.
// - To end a blocked wait (timeout, abort, close), the glue sets `cancelled`
//   and sends SIGURG to the waiting thread. Our SIGURG handler is installed
//   without SA_RESTART, so flock returns EINTR and the loop sees the flag.
//   An interrupt that lands just before the thread enters flock is lost,
//   which is why the glue repeats Interrupt until WaitLock returns.
//   Correctness never depends on the signal: a thread that is never
//   interrupted keeps waiting, and once it gets the lock it sees `cancelled`
//   and releases it at once.
// SIGURG: its default action is to ignore it, and Node, libuv and V8 do not
// use it (Go's runtime uses it for the same preemption purpose).
//
// Whoever owns a signal can change its disposition at any moment, also
// while a wait is blocked: `process.on('SIGURG')` makes libuv install its
// own handler (with SA_RESTART, so flock would just restart, and every
// signal we sent would reach the program's listener), and libuv resets
// SIGURG to the default when the last listener goes (then our signal is
// simply discarded). So the disposition is checked at the start of every
// wait AND again, under one mutex, right before every interrupt:
// - ours: signal it;
// - default or ignored (nobody's): install ours again, then signal;
// - someone else's: never signal it. On Linux the interrupt then uses a
//   backup, a real-time signal (kBackupOffset below) that JavaScript cannot
//   listen to (Node's process.on knows no real-time signal names), under the
//   same rules. Only if that is taken too does Interrupt report failure;
//   the glue then stops waiting for the thread, which keeps the descriptor
//   and frees it once it gets the lock (see binding.cc, StopWait).
// A wait that starts while neither signal can be used polls (PollLock).
void NoOpHandler(int) {}  // its only job is to make flock return EINTR

#ifdef SIGRTMIN
// SIGRTMIN + 9: clear of glibc's and musl's reserved ones (below SIGRTMIN)
// and of the low real-time numbers that C programs tend to pick first.
constexpr int kBackupOffset = 9;
int BackupSignal() {
  return SIGRTMIN + kBackupOffset <= SIGRTMAX ? SIGRTMIN + kBackupOffset : 0;
}
#else
int BackupSignal() { return 0; }  // macOS: no real-time signals
#endif

// Guards every read and change of the dispositions we use.
std::mutex& SignalMutex() {
  static std::mutex mutex;
  return mutex;
}

// Under SignalMutex(). True when our handler is in place for `signal`
// (installed now if nobody had claimed it).
bool OwnSignal(int signal) {
  if (signal <= 0) return false;
  struct sigaction current;
  if (sigaction(signal, nullptr, &current) != 0) return false;
  if (current.sa_flags & SA_SIGINFO) return false;  // someone else's
  if (current.sa_handler == NoOpHandler) return true;
  if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) return false;
  struct sigaction handler;
  memset(&handler, 0, sizeof handler);
  handler.sa_handler = NoOpHandler;
  sigfillset(&handler.sa_mask);
  handler.sa_flags = 0;  // no SA_RESTART: flock must return EINTR
  return sigaction(signal, &handler, nullptr) == 0;
}

// The signal that can interrupt a waiting thread right now, or 0.
int InterruptSignal() {
  std::lock_guard<std::mutex> lock(SignalMutex());
  if (OwnSignal(SIGURG)) return SIGURG;
  if (OwnSignal(BackupSignal())) return BackupSignal();
  return 0;
}

// The fallback while neither signal is ours: try, then sleep 1 ms growing
// to 8 ms, checking `cancelled` between tries. Slower hand-off, but it ends
// promptly on cancel without signalling anyone.
Result PollLock(NativeHandle handle, Mode mode, const std::atomic<bool>* cancelled) {
  long sleep_ns = 1000000;
  for (;;) {
    if (cancelled->load()) return Result::Cancelled();
    if (flock(handle, LockOperation(mode) | LOCK_NB) == 0) return Result::Ok();
    if (errno != EINTR && !IsContention(errno)) return Result::Error(errno);
    struct timespec pause = {0, sleep_ns};
    nanosleep(&pause, nullptr);
    if (sleep_ns < 8000000) sleep_ns *= 2;
  }
}

// Only our interrupt signals reach a waiting thread, so it never takes a
// signal that a Node thread should handle.
void BlockAllSignalsButInterrupts() {
  sigset_t mask;
  sigfillset(&mask);
  sigdelset(&mask, SIGURG);
  if (BackupSignal() > 0) sigdelset(&mask, BackupSignal());
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
}

}  // namespace

struct WaitSlot {
  std::mutex mutex;
  bool waiting = false;  // `thread` may be signalled only while this is true
  pthread_t thread{};
};

std::string ErrorCode(int error) {
  if (error == kNotRegularFile) return "EFTYPE";
  switch (error) {
#define JIT_ERRNO_NAME(name) \
  case name:                 \
    return #name;
    JIT_ERRNO_NAME(ENOENT)
    JIT_ERRNO_NAME(EACCES)
    JIT_ERRNO_NAME(EPERM)
    JIT_ERRNO_NAME(EISDIR)
    JIT_ERRNO_NAME(ENOTDIR)
    JIT_ERRNO_NAME(ELOOP)
    JIT_ERRNO_NAME(ENAMETOOLONG)
    JIT_ERRNO_NAME(EMFILE)
    JIT_ERRNO_NAME(ENFILE)
    JIT_ERRNO_NAME(ENOSPC)
    JIT_ERRNO_NAME(EROFS)
    JIT_ERRNO_NAME(ENOLCK)
    JIT_ERRNO_NAME(EINVAL)
    JIT_ERRNO_NAME(EBADF)
    JIT_ERRNO_NAME(EIO)
    JIT_ERRNO_NAME(EEXIST)
    JIT_ERRNO_NAME(EBUSY)
    JIT_ERRNO_NAME(ETXTBSY)
    JIT_ERRNO_NAME(ENXIO)
    JIT_ERRNO_NAME(ENODEV)
    JIT_ERRNO_NAME(EOVERFLOW)
    JIT_ERRNO_NAME(EDQUOT)
    JIT_ERRNO_NAME(ENOMEM)
    JIT_ERRNO_NAME(EINTR)
    JIT_ERRNO_NAME(EDEADLK)
    JIT_ERRNO_NAME(ENOTSUP)  // also EOPNOTSUPP on Linux, which Node names ENOTSUP too
#if EOPNOTSUPP != ENOTSUP
    JIT_ERRNO_NAME(EOPNOTSUPP)
#endif
    JIT_ERRNO_NAME(EAGAIN)
#undef JIT_ERRNO_NAME
    default:
      return "E" + std::to_string(error);
  }
}

std::string ErrorMessage(int error) {
  if (error == kNotRegularFile) return "Not a regular file (a FIFO, socket or device)";
  return strerror(error);
}

int ErrorNumber(int error) {
#ifdef EFTYPE
  if (error == kNotRegularFile) return -EFTYPE;
#else
  if (error == kNotRegularFile) return -4028;  // libuv's UV_EFTYPE where the OS has none
#endif
  return -error;  // libuv's (and so Node's) convention on POSIX
}

namespace {

// open(2), retried on EINTR; -1 with errno set on failure.
int OpenRetrying(const char* path, int flags) {
  for (;;) {
    int fd = open(path, flags, 0666);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

// Writing refused: a read-only file system, or a mode or folder that forbids it.
bool IsWriteRefused(int error) {
  return error == EROFS || error == EACCES || error == EPERM;
}

}  // namespace

Result Open(const char* path, bool follow_symlinks, bool read_only_fallback, NativeHandle* out) {
  // Read-write: NFS flock emulation needs it for exclusive locks; a shared
  // lock needs only read access (flock and its NFS emulation alike), hence
  // the fallback. O_NONBLOCK: opening a FIFO would otherwise wait for a peer,
  // forever; on a regular file it changes nothing (flock waits or not by
  // LOCK_NB alone).
  int common = O_CLOEXEC | O_NONBLOCK | (follow_symlinks ? 0 : O_NOFOLLOW);
  int fd = OpenRetrying(path, O_RDWR | O_CREAT | common);
  if (fd < 0 && read_only_fallback && IsWriteRefused(errno)) {
    int refused = errno;
    fd = OpenRetrying(path, O_RDONLY | common);
    if (fd < 0 && errno == ENOENT) errno = refused;  // missing, and cannot be made: say why
  }
  if (fd < 0) {
    // A socket (ENXIO on Linux, EOPNOTSUPP on macOS) or a device without its driver.
    if (errno == ENXIO || errno == EOPNOTSUPP) return Result::Error(kNotRegularFile);
    return Result::Error(errno);
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return Result::Error(error);
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return Result::Error(kNotRegularFile);
  }
  *out = fd;
  return Result::Ok();
}

void Close(NativeHandle handle) {
  close(handle);  // not retried on EINTR: on Linux the descriptor is gone anyway
}

Result Identity(NativeHandle handle, std::string* out) {
  struct stat info;
  if (fstat(handle, &info) != 0) return Result::Error(errno);
  *out = std::to_string(static_cast<unsigned long long>(info.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(info.st_ino));
  return Result::Ok();
}

Result TryLock(NativeHandle handle, Mode mode) {
  for (;;) {
    if (flock(handle, LockOperation(mode) | LOCK_NB) == 0) return Result::Ok();
    if (errno == EINTR) continue;
    if (IsContention(errno)) return Result::Busy();
    return Result::Error(errno);
  }
}

Result Unlock(NativeHandle handle) {
  for (;;) {
    if (flock(handle, LOCK_UN) == 0) return Result::Ok();
    if (errno != EINTR) return Result::Error(errno);
  }
}

WaitSlot* NewWaitSlot() {
  return new WaitSlot();
}

void DeleteWaitSlot(WaitSlot* slot) {
  delete slot;
}

Result WaitLock(NativeHandle handle, Mode mode, WaitSlot* slot,
                const std::atomic<bool>* cancelled) {
  BlockAllSignalsButInterrupts();
  if (InterruptSignal() == 0) {
    Result polled = PollLock(handle, mode, cancelled);
    if (polled.status == Status::kOk && cancelled->load()) {
      Unlock(handle);  // nobody wants it any more
      return Result::Cancelled();
    }
    return polled;
  }
  {
    std::lock_guard<std::mutex> lock(slot->mutex);
    slot->thread = pthread_self();
    slot->waiting = true;
  }
  Result result;
  for (;;) {
    if (cancelled->load()) {
      result = Result::Cancelled();
      break;
    }
    if (flock(handle, LockOperation(mode)) == 0) {
      if (cancelled->load()) {  // nobody wants it any more
        Unlock(handle);
        result = Result::Cancelled();
      } else {
        result = Result::Ok();
      }
      break;
    }
    if (errno != EINTR) {
      result = Result::Error(errno);
      break;
    }
  }
  std::lock_guard<std::mutex> lock(slot->mutex);
  slot->waiting = false;
  return result;
}

bool Interrupt(WaitSlot* slot) {
  std::lock_guard<std::mutex> lock(slot->mutex);
  if (!slot->waiting) return true;  // not blocked (yet, or any more): it checks the flag itself
  // Under SignalMutex() so that no wait of ours changes the disposition
  // between the check and the signal.
  std::lock_guard<std::mutex> signals(SignalMutex());
  int signal = 0;
  if (OwnSignal(SIGURG)) {
    signal = SIGURG;
  } else if (OwnSignal(BackupSignal())) {
    signal = BackupSignal();
  }
  if (signal == 0) return false;  // only someone else's handlers: sending would reach them
  pthread_kill(slot->thread, signal);
  return true;
}

}  // namespace jit::os
