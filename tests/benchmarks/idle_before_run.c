/* What a pause before a run does to the run: a minimal spawner (vfork, the child's clock right
 * before execve, wait4, the parent's clock: the launcher's clock points) starts PROGRAM RUNS times
 * after 5 unmeasured runs, doing one thing before each run, and prints the median interval.
 *
 *   idle_before_run RUNS MODE AMOUNT PROGRAM [ARGS...]
 *     MODE none   nothing: runs back to back, as hyperfine's are
 *          sleep  sleep AMOUNT µs (the CPU idles, as it did while the orchestrator slept 2 ms after
 *                 starting each run)
 *          spin   spin AMOUNT µs (the CPU stays busy)
 *          touch  write AMOUNT KiB of memory (evicts the caches)
 *
 * tests/benchmarks/idle_before_run.sh builds it and runs the modes in interleaved rounds. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char **environ;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Written by the vfork child (which shares this memory until its exec), read after. */
static volatile long long t0;

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s RUNS none|sleep|spin|touch AMOUNT PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    int runs = atoi(argv[1]);
    const char *mode = argv[2];
    long amount = atol(argv[3]);
    char **program = argv + 4;
    if (runs < 1 || amount < 0) {
        fprintf(stderr, "RUNS must be at least 1 and AMOUNT not negative\n");
        return 2;
    }
    char *memory = NULL;
    if (strcmp(mode, "touch") == 0 && amount > 0 && (memory = malloc((size_t)amount << 10)) == NULL) {
        perror("malloc");
        return 2;
    }
    long long *intervals = malloc(sizeof *intervals * (size_t)runs);
    if (intervals == NULL) {
        perror("malloc");
        return 2;
    }
    for (int i = 0; i < runs + 5; i++) {
        if (strcmp(mode, "sleep") == 0) {
            usleep((useconds_t)amount);
        } else if (strcmp(mode, "spin") == 0) {
            long long until = now_ns() + amount * 1000LL;
            while (now_ns() < until) {
            }
        } else if (memory != NULL) {
            memset(memory, i, (size_t)amount << 10);
        }
        pid_t pid = vfork();
        if (pid == 0) {
            t0 = now_ns();
            execve(program[0], program, environ);
            _exit(127);
        }
        if (pid < 0) {
            perror("vfork");
            return 1;
        }
        int status;
        struct rusage usage;
        if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s did not exit with 0\n", program[0]);
            return 1;
        }
        long long end = now_ns();
        if (i >= 5) {
            intervals[i - 5] = end - t0;
        }
    }
    qsort(intervals, (size_t)runs, sizeof *intervals, by_value);
    printf("%.1f\n", intervals[runs / 2] / 1000.0);
    return 0;
}
