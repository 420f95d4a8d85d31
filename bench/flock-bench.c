/* The physical limit for bench/lock.js: flock(2) called directly from C.
 *
 *   flock-bench uncontended <path> <iterations>
 *     open + flock(LOCK_EX|LOCK_NB) + flock(LOCK_UN) + close, each cycle
 *     timed on its own: prints one latency per line in ns
 *   flock-bench wait <path> 0
 *     a fresh waiter (the cold hand-off): opens the file, prints "waiting",
 *     blocks in flock(LOCK_EX) and prints "acquired <CLOCK_MONOTONIC ns>"
 *   flock-bench handoff <path> <rounds>
 *     a holder (parent) and a waiter (child, its own open file description)
 *     hand the lock over <rounds> times; prints one latency per line in ns:
 *     from just before the holder's unlock to just after the waiter's flock
 *     returned, both read from CLOCK_MONOTONIC (one clock for all processes).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int open_lock(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) die("open");
  return fd;
}

static void must(int ok, const char *what) {
  if (!ok) die(what);
}

static void uncontended(const char *path, long iterations) {
  for (long i = 0; i < iterations; i++) {
    int64_t start = now_ns();
    int fd = open_lock(path);
    must(flock(fd, LOCK_EX | LOCK_NB) == 0, "flock");
    must(flock(fd, LOCK_UN) == 0, "unlock");
    close(fd);
    printf("%lld\n", (long long)(now_ns() - start));
  }
}

static void wait_once(const char *path) {
  int fd = open_lock(path);
  printf("waiting\n");
  fflush(stdout);
  must(flock(fd, LOCK_EX) == 0, "flock");
  int64_t acquired = now_ns();
  printf("acquired %lld\n", (long long)acquired);
  fflush(stdout);
  flock(fd, LOCK_UN);
  close(fd);
}

static void read_exact(int fd, void *buffer, size_t size) {
  must(read(fd, buffer, size) == (ssize_t)size, "read");
}

static void handoff(const char *path, long rounds) {
  int go[2], ready[2], done[2];
  must(pipe(go) == 0 && pipe(ready) == 0 && pipe(done) == 0, "pipe");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) { /* waiter */
    int fd = open_lock(path);
    char byte;
    for (long i = 0; i < rounds; i++) {
      read_exact(go[0], &byte, 1);
      must(write(ready[1], &byte, 1) == 1, "write");
      must(flock(fd, LOCK_EX) == 0, "flock");
      int64_t acquired = now_ns();
      must(flock(fd, LOCK_UN) == 0, "unlock");
      must(write(done[1], &acquired, sizeof acquired) == sizeof acquired, "write");
    }
    _exit(0);
  }
  int fd = open_lock(path);
  const struct timespec settle = {0, 2000000}; /* let the waiter enter flock */
  for (long i = 0; i < rounds; i++) {
    char byte = 'g';
    must(flock(fd, LOCK_EX) == 0, "flock");
    must(write(go[1], &byte, 1) == 1, "write");
    read_exact(ready[0], &byte, 1);
    nanosleep(&settle, NULL);
    int64_t released = now_ns();
    must(flock(fd, LOCK_UN) == 0, "unlock");
    int64_t acquired;
    read_exact(done[0], &acquired, sizeof acquired);
    printf("%lld\n", (long long)(acquired - released));
  }
  waitpid(child, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s uncontended|handoff|wait <path> <count>\n", argv[0]);
    return 2;
  }
  long count = strtol(argv[3], NULL, 10);
  if (strcmp(argv[1], "uncontended") == 0) uncontended(argv[2], count);
  else if (strcmp(argv[1], "handoff") == 0) handoff(argv[2], count);
  else if (strcmp(argv[1], "wait") == 0) wait_once(argv[2]);
  else return 2;
  return 0;
}
