// lock_os.h on Windows: LockFileEx / UnlockFileEx.
//
// LockFileEx locks belong to the handle, so two opens of one file in one
// process conflict (as flock descriptors do), and Windows drops them when the
// handle closes, including when the process dies.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include "lock_os.h"

namespace jit::os {

namespace {

// LockFileEx locks are mandatory: while one handle holds a range, other
// handles cannot read or write it. So we lock a single byte far beyond any
// data anyone would write, leaving the file's contents readable and writable
// by everyone. Locking past the end of a file is allowed and does not grow
// it. The byte is the last one whose end still fits a signed 64-bit offset,
// because Wine and Samba mirror Windows locks onto POSIX fcntl locks, whose
// offsets are signed.
constexpr DWORD kRangeOffsetLow = 0xFFFFFFFE;
constexpr DWORD kRangeOffsetHigh = 0x7FFFFFFF;
constexpr DWORD kRangeLength = 1;

OVERLAPPED RangeOverlapped(HANDLE event) {
  OVERLAPPED overlapped{};
  overlapped.Offset = kRangeOffsetLow;
  overlapped.OffsetHigh = kRangeOffsetHigh;
  overlapped.hEvent = event;
  return overlapped;
}

DWORD LockFlags(Mode mode) {
  return mode == Mode::kExclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0;
}

// Errors we report for conditions CreateFileW does not name. Both are real
// Win32 codes (336 is ERROR_DIRECTORY_NOT_SUPPORTED, missing from
// mingw-w64's headers); their messages are ours, worded as on POSIX.
constexpr DWORD kIsDirectory = 336;                        // EISDIR
constexpr DWORD kIsSymlink = ERROR_CANT_RESOLVE_FILENAME;  // ELOOP
constexpr DWORD kNotRegularFile = 222;                     // EFTYPE (ERROR_BAD_FILE_TYPE)

Result LastError() {
  return Result::Error(static_cast<int>(GetLastError()));
}

bool Utf8ToWide(const char* text, std::wstring* out) {
  int length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, nullptr, 0);
  if (length <= 0) return false;
  out->resize(static_cast<size_t>(length));
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, &(*out)[0], length) <= 0) {
    return false;
  }
  out->pop_back();  // the terminating NUL
  return true;
}

std::string WideToUtf8(const wchar_t* text, int length) {
  int size = WideCharToMultiByte(CP_UTF8, 0, text, length, nullptr, 0, nullptr, nullptr);
  if (size <= 0) return std::string();
  std::string out(static_cast<size_t>(size), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, length, &out[0], size, nullptr, nullptr);
  return out;
}

// Symbolic links and junctions are "name surrogates"; other reparse points
// (OneDrive placeholders, deduplicated files) are ordinary files to us.
bool IsLink(HANDLE handle, bool* link) {
  FILE_ATTRIBUTE_TAG_INFO info{};
  if (!GetFileInformationByHandleEx(handle, FileAttributeTagInfo, &info, sizeof info)) {
    return false;
  }
  *link = (info.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 &&
          IsReparseTagNameSurrogate(info.ReparseTag);
  return true;
}

HANDLE OpenLockFile(const std::wstring& path, DWORD extra_flags, bool read_only = false) {
  // No SECURITY_ATTRIBUTES: the handle is not inherited by child processes,
  // which would otherwise keep the lock after we release it. Read-only: an
  // existing file only (LockFileEx needs read or write access, not both).
  return CreateFileW(path.c_str(), read_only ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE,
                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                     read_only ? OPEN_EXISTING : OPEN_ALWAYS,
                     FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED | extra_flags, nullptr);
}

// CreateFileW answers ERROR_ACCESS_DENIED for a directory; say what it is.
Result OpenFailure(const std::wstring& path, DWORD error) {
  if (error == ERROR_ACCESS_DENIED) {
    DWORD attributes = GetFileAttributesW(path.c_str());
    if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY)) {
      return Result::Error(kIsDirectory);
    }
  }
  return Result::Error(static_cast<int>(error));
}

// Asks for the lock once without waiting. The handle is overlapped, so
// Windows may answer ERROR_IO_PENDING even with LOCKFILE_FAIL_IMMEDIATELY;
// the request then completes at once and we collect its outcome before the
// OVERLAPPED leaves the stack. It has no event: GetOverlappedResult waits on
// the file handle, which is safe because the glue never runs two operations
// on one handle at a time.
Result RequestLockNow(HANDLE handle, Mode mode) {
  OVERLAPPED overlapped = RangeOverlapped(nullptr);
  DWORD error = ERROR_SUCCESS;
  if (!LockFileEx(handle, LockFlags(mode) | LOCKFILE_FAIL_IMMEDIATELY, 0, kRangeLength, 0,
                  &overlapped)) {
    error = GetLastError();
    DWORD transferred = 0;
    if (error == ERROR_IO_PENDING) {
      error = GetOverlappedResult(handle, &overlapped, &transferred, TRUE) ? ERROR_SUCCESS
                                                                          : GetLastError();
    }
  }
  if (error == ERROR_SUCCESS) return Result::Ok();
  if (error == ERROR_LOCK_VIOLATION || error == ERROR_ACCESS_DENIED) return Result::Busy();
  return Result::Error(static_cast<int>(error));
}

// Waiting design. A real Windows wait is an overlapped LockFileEx: the
// request queues in the kernel and its event fires the moment the holder
// releases. Interrupt() only sets the slot's event; the waiting thread itself
// then cancels its request with CancelIoEx and waits for the cancelled I/O to
// finish before the OVERLAPPED goes away. Because the interrupt is an event
// and not a CancelIoEx from another thread, an interrupt that arrives before
// the request is issued is not lost: the event stays set.
//
// Wine (8.x) does not implement asynchronous lock waits: NtLockFile answers
// STATUS_PENDING and never completes the request ("Async I/O lock wait not
// implemented"), and CancelIoEx finds nothing to cancel. Under Wine we
// therefore poll the lock with a short, growing sleep, which the same
// interrupt event cuts short.
bool AsyncLockWaitsWork() {
  static const bool works = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll == nullptr || GetProcAddress(ntdll, "wine_get_version") == nullptr;
  }();
  return works;
}

constexpr DWORD kFirstPollMs = 1;
constexpr DWORD kLongestPollMs = 16;

}  // namespace

struct WaitSlot {
  HANDLE interrupt = nullptr;  // manual-reset event, set by Interrupt()
  DWORD create_error = ERROR_SUCCESS;
};

namespace {

// Returns true when the wait should end: the interrupt event fired and
// `cancelled` is set. A stray interrupt with `cancelled` unset is consumed.
bool InterruptedForGood(WaitSlot* slot, const std::atomic<bool>* cancelled) {
  ResetEvent(slot->interrupt);
  return cancelled->load();
}

Result PollForLock(HANDLE handle, Mode mode, WaitSlot* slot,
                   const std::atomic<bool>* cancelled) {
  DWORD pause_ms = kFirstPollMs;
  for (;;) {
    Result result = RequestLockNow(handle, mode);
    if (result.status != Status::kBusy) {
      if (result.status == Status::kOk && cancelled->load()) {
        Unlock(handle);
        return Result::Cancelled();
      }
      return result;
    }
    DWORD waited = WaitForSingleObject(slot->interrupt, pause_ms);
    if (waited == WAIT_FAILED) return LastError();
    if (waited == WAIT_OBJECT_0 && InterruptedForGood(slot, cancelled)) {
      return Result::Cancelled();
    }
    pause_ms = pause_ms * 2 > kLongestPollMs ? kLongestPollMs : pause_ms * 2;
  }
}

Result AwaitLock(HANDLE handle, Mode mode, WaitSlot* slot, const std::atomic<bool>* cancelled) {
  HANDLE granted = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (granted == nullptr) return LastError();
  OVERLAPPED overlapped = RangeOverlapped(granted);
  Result result = Result::Ok();
  if (!LockFileEx(handle, LockFlags(mode), 0, kRangeLength, 0, &overlapped)) {
    DWORD error = GetLastError();
    if (error != ERROR_IO_PENDING) {
      CloseHandle(granted);
      return Result::Error(static_cast<int>(error));
    }
    HANDLE events[] = {granted, slot->interrupt};
    DWORD wait_error = ERROR_SUCCESS;
    for (;;) {
      DWORD waited = WaitForMultipleObjects(2, events, FALSE, INFINITE);
      if (waited == WAIT_OBJECT_0) break;
      if (waited == WAIT_OBJECT_0 + 1) {
        if (!InterruptedForGood(slot, cancelled)) continue;
      } else {
        wait_error = GetLastError();
      }
      CancelIoEx(handle, &overlapped);  // fails harmlessly if it just completed
      break;
    }
    DWORD transferred = 0;
    const bool acquired = GetOverlappedResult(handle, &overlapped, &transferred, TRUE) != FALSE;
    error = acquired ? ERROR_SUCCESS : GetLastError();
    if (wait_error != ERROR_SUCCESS) {
      if (acquired) Unlock(handle);
      result = Result::Error(static_cast<int>(wait_error));
    } else if (!acquired) {
      result = error == ERROR_OPERATION_ABORTED && cancelled->load()
                   ? Result::Cancelled()
                   : Result::Error(static_cast<int>(error));
    }
  }
  CloseHandle(granted);
  if (result.status == Status::kOk && cancelled->load()) {  // granted as the cancel landed
    Unlock(handle);
    return Result::Cancelled();
  }
  return result;
}

}  // namespace

std::string ErrorCode(int error) {
  switch (static_cast<DWORD>(error)) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
      return "ENOENT";
    case ERROR_ACCESS_DENIED:
    case ERROR_NETWORK_ACCESS_DENIED:
      return "EACCES";
    case ERROR_PRIVILEGE_NOT_HELD:
      return "EPERM";
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return "EBUSY";
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_INVALID_PARAMETER:
    case ERROR_NO_UNICODE_TRANSLATION:
      return "EINVAL";
    case ERROR_FILENAME_EXCED_RANGE:
      return "ENAMETOOLONG";
    case ERROR_DIRECTORY:
      return "ENOTDIR";
    case kIsDirectory:
      return "EISDIR";
    case kIsSymlink:
      return "ELOOP";
    case kNotRegularFile:
      return "EFTYPE";
    case ERROR_TOO_MANY_OPEN_FILES:
      return "EMFILE";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return "ENOMEM";
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return "ENOSPC";
    case ERROR_WRITE_PROTECT:
      return "EROFS";
    case ERROR_INVALID_HANDLE:
      return "EBADF";
    case ERROR_NOT_LOCKED:
      return "ENOLCK";
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
      return "ENOTSUP";
    case ERROR_OPERATION_ABORTED:
      return "ECANCELED";
    default:
      return "EWIN" + std::to_string(error);
  }
}

// libuv's numbers on Windows (uv/errno.h), which Node reports as `errno`.
int ErrorNumber(int error) {
  static const struct {
    const char* code;
    int number;
  } kLibuvNumbers[] = {
      {"ENOENT", -4058}, {"EACCES", -4092},  {"EPERM", -4048},        {"EBUSY", -4082},
      {"EINVAL", -4071}, {"ENAMETOOLONG", -4064}, {"ENOTDIR", -4052}, {"EISDIR", -4068},
      {"ELOOP", -4067},  {"EMFILE", -4066},  {"ENOMEM", -4057},       {"ENOSPC", -4055},
      {"EROFS", -4043},  {"EBADF", -4083},   {"ENOTSUP", -4049},      {"ECANCELED", -4081},
      {"EFTYPE", -4028},
  };
  const std::string code = ErrorCode(error);
  for (const auto& entry : kLibuvNumbers) {
    if (code == entry.code) return entry.number;
  }
  return -4094;  // UV_UNKNOWN: libuv has no number for it (ENOLCK, EWIN<n>)
}

std::string ErrorMessage(int error) {
  if (static_cast<DWORD>(error) == kIsDirectory) return "Is a directory";
  if (static_cast<DWORD>(error) == kIsSymlink) return "Is a symbolic link";
  if (static_cast<DWORD>(error) == kNotRegularFile) return "Not a regular file (a FIFO, socket or device)";
  wchar_t* buffer = nullptr;
  DWORD length = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, static_cast<DWORD>(error), MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
      reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string message;
  if (length > 0 && buffer != nullptr) {
    message = WideToUtf8(buffer, static_cast<int>(length));
  }
  LocalFree(buffer);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                              message.back() == ' ' || message.back() == '.')) {
    message.pop_back();
  }
  return message.empty() ? "Windows error " + std::to_string(error) : message;
}

Result Open(const char* path, bool follow_symlinks, bool read_only_fallback, NativeHandle* out) {
  std::wstring wide;
  if (!Utf8ToWide(path, &wide)) return Result::Error(ERROR_NO_UNICODE_TRANSLATION);
  const DWORD flags = follow_symlinks ? 0 : FILE_FLAG_OPEN_REPARSE_POINT;
  HANDLE handle = OpenLockFile(wide, flags);
  if (handle == INVALID_HANDLE_VALUE) {
    Result failure = OpenFailure(wide, GetLastError());
    // Writing refused (a read-only file or medium): an existing file still takes a shared lock.
    const DWORD refused = static_cast<DWORD>(failure.error);
    if (!read_only_fallback || (refused != ERROR_ACCESS_DENIED && refused != ERROR_WRITE_PROTECT)) {
      return failure;
    }
    handle = OpenLockFile(wide, flags, true);
    if (handle == INVALID_HANDLE_VALUE) {
      const DWORD error = GetLastError();
      return error == ERROR_FILE_NOT_FOUND ? failure : OpenFailure(wide, error);
    }
  }
  if (!follow_symlinks) {
    bool link = false;
    if (!IsLink(handle, &link)) {
      Result failure = LastError();
      CloseHandle(handle);
      return failure;
    }
    if (link) {
      CloseHandle(handle);
      return Result::Error(kIsSymlink);
    }
  }
  // A device (CON, NUL, COM1: names Windows resolves in any folder) or a pipe is no lock file.
  if (GetFileType(handle) != FILE_TYPE_DISK) {
    CloseHandle(handle);
    return Result::Error(kNotRegularFile);
  }
  *out = handle;
  return Result::Ok();
}

void Close(NativeHandle handle) {
  CloseHandle(handle);
}

Result Identity(NativeHandle handle, std::string* out) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(handle, &info)) return LastError();
  unsigned long long index =
      (static_cast<unsigned long long>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
  *out = std::to_string(info.dwVolumeSerialNumber) + ":" + std::to_string(index);
  return Result::Ok();
}

Result TryLock(NativeHandle handle, Mode mode) {
  return RequestLockNow(handle, mode);
}

Result Unlock(NativeHandle handle) {
  OVERLAPPED overlapped = RangeOverlapped(nullptr);
  if (!UnlockFileEx(handle, 0, kRangeLength, 0, &overlapped)) return LastError();
  return Result::Ok();
}

WaitSlot* NewWaitSlot() {
  auto* slot = new WaitSlot();
  slot->interrupt = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (slot->interrupt == nullptr) slot->create_error = GetLastError();
  return slot;
}

void DeleteWaitSlot(WaitSlot* slot) {
  if (slot->interrupt != nullptr) CloseHandle(slot->interrupt);
  delete slot;
}

Result WaitLock(NativeHandle handle, Mode mode, WaitSlot* slot,
                const std::atomic<bool>* cancelled) {
  if (slot->interrupt == nullptr) return Result::Error(static_cast<int>(slot->create_error));
  if (cancelled->load()) return Result::Cancelled();
  return AsyncLockWaitsWork() ? AwaitLock(handle, mode, slot, cancelled)
                              : PollForLock(handle, mode, slot, cancelled);
}

bool Interrupt(WaitSlot* slot) {
  // Without an event WaitLock never started waiting: nothing to reach.
  if (slot->interrupt != nullptr) SetEvent(slot->interrupt);
  return true;
}

}  // namespace jit::os
