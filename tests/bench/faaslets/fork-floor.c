// The floor: fork of a minimal process to the child's first instruction.
// Prints the samples' p50 and p99 in microseconds: "p50 p99".
// With "pin" as the second argument the child is started on the parent's CPU
// as the zygote starts a Faaslet (loader/faaslet Zygote.cpp): the parent pins
// itself to its CPU around fork and yields, then gives the child (if it is
// still there) and itself the CPU set back.
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int pin = argc > 2 && strcmp(argv[2], "pin") == 0;
  cpu_set_t allowed;
  if (pin && sched_getaffinity(0, sizeof allowed, &allowed) != 0) pin = 0;
  volatile uint64_t* stamp =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  uint64_t* samples = calloc((size_t)n, sizeof *samples);
  for (int i = 0; i < n; ++i) {
    uint64_t t0 = nowNs();
    if (pin) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(sched_getcpu(), &one);
      sched_setaffinity(0, sizeof one, &one);
    }
    pid_t pid = fork();
    if (pid == 0) {
      *stamp = nowNs();
      _exit(0);
    }
    if (pin) {
      sched_yield();
      sched_setaffinity(pid, sizeof allowed, &allowed); /* not reaped yet: still its pid */
      sched_setaffinity(0, sizeof allowed, &allowed);
    }
    waitpid(pid, NULL, 0);
    samples[i] = *stamp - t0;
  }
  qsort(samples, (size_t)n, sizeof *samples, cmp);
  printf("%.1f %.1f\n", samples[n / 2] / 1000.0, samples[(n * 99) / 100] / 1000.0);
  return 0;
}
