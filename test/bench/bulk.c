/*
 * The C bulk limit for the vphb bench: what one UNIX stream socket carries between two C
 * processes when the receiver reads and drops (same round protocol as the Node peers: an LE u64
 * length, the bytes, a one-byte ack).
 *   bulk recv PATH              serve (prints "ready" once listening)
 *   bulk send PATH MS WRITESIZE send rounds of 32 MiB for MS ms after a 300 ms warm-up,
 *                               print {"bytesPerSec":N}
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ROUND (32u << 20)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int full_read(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int full_write(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void addr_of(const char *path, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strncpy(a->sun_path, path, sizeof a->sun_path - 1);
}

static int serve(const char *path) {
  struct sockaddr_un a;
  addr_of(path, &a);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  unlink(path);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0) return perror("listen"), 1;
  printf("ready\n");
  fflush(stdout);
  static char buf[256 << 10];
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    uint64_t total;
    while (full_read(c, &total, 8) == 0) {
      uint64_t got = 0;
      while (got < total) {
        size_t want = total - got < sizeof buf ? (size_t)(total - got) : sizeof buf;
        ssize_t r = read(c, buf, want);
        if (r <= 0) goto done;
        got += (uint64_t)r;
      }
      char ack = 1;
      if (full_write(c, &ack, 1) < 0) break;
    }
  done:
    close(c);
  }
}

static int round_trip(int fd, const char *buf, size_t wsize) {
  uint64_t total = ROUND;
  if (full_write(fd, &total, 8) < 0) return -1;
  for (size_t sent = 0; sent < ROUND; sent += wsize) {
    if (full_write(fd, buf, wsize < ROUND - sent ? wsize : ROUND - sent) < 0) return -1;
  }
  char ack;
  return full_read(fd, &ack, 1);
}

static int sender(const char *path, double ms, size_t wsize) {
  struct sockaddr_un a;
  addr_of(path, &a);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) return perror("connect"), 1;
  char *buf = calloc(1, wsize);
  double warm = now_ms() + 300;
  while (now_ms() < warm)
    if (round_trip(fd, buf, wsize) < 0) return 1;
  double t0 = now_ms();
  uint64_t rounds = 0;
  while (now_ms() - t0 < ms) {
    if (round_trip(fd, buf, wsize) < 0) return 1;
    rounds++;
  }
  double secs = (now_ms() - t0) / 1e3;
  printf("{\"bytesPerSec\":%.0f}\n", (double)rounds * ROUND / secs);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "recv") == 0) return serve(argv[2]);
  if (argc == 5 && strcmp(argv[1], "send") == 0) return sender(argv[2], atof(argv[3]), (size_t)atol(argv[4]));
  fprintf(stderr, "usage: bulk recv PATH | bulk send PATH MS WRITESIZE\n");
  return 2;
}
