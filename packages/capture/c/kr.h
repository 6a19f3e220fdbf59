/*
 * Shared helpers for kreplay's capture workloads (static, pthreads, run as PID-1's child
 * inside the capture guest). Each workload races threads on one file of an ext4 disk,
 * writes phase markers to trace_marker and prints exactly one result line:
 *   KREPLAY_RESULT workload=<name> key=value ...
 * Usage of every workload: <binary> FILE PAGES DURATION_MS
 */
#ifndef KR_H
#define KR_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KR_PAGE 4096

struct kr_args {
	const char *file;
	long pages;
	long duration_ms;
};

static int kr_marker_fd = -1;
static volatile int kr_stop;

static void kr_die(const char *what)
{
	fprintf(stdout, "KREPLAY_ERROR %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(2);
}

static void kr_parse_args(int argc, char **argv, struct kr_args *a)
{
	if (argc != 4) {
		fprintf(stdout, "KREPLAY_ERROR usage: %s FILE PAGES DURATION_MS\n", argv[0]);
		exit(2);
	}
	a->file = argv[1];
	a->pages = strtol(argv[2], NULL, 10);
	a->duration_ms = strtol(argv[3], NULL, 10);
	if (a->pages < 2 || a->duration_ms < 1) {
		fprintf(stdout, "KREPLAY_ERROR PAGES must be >= 2 and DURATION_MS >= 1\n");
		exit(2);
	}
	kr_marker_fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
}

/* A trace_marker line: "kreplay: <text>". Silently absent when tracefs is not mounted. */
static void kr_marker(const char *fmt, ...)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "kreplay: ");
	va_list ap;

	if (kr_marker_fd < 0)
		return;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(kr_marker_fd, buf, n) < 0)
		kr_marker_fd = -1;
}

static void kr_name_thread(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static uint64_t kr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep for the race duration, then tell every thread to stop. */
static void kr_run_for(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	__atomic_store_n(&kr_stop, 1, __ATOMIC_RELEASE);
}

static int kr_stopped(void)
{
	return __atomic_load_n(&kr_stop, __ATOMIC_ACQUIRE);
}

/* Fill an aligned page buffer with a 64-bit tag (the page's generation). */
static void kr_fill(uint64_t *buf, uint64_t tag)
{
	for (size_t i = 0; i < KR_PAGE / sizeof(uint64_t); i++)
		buf[i] = tag;
}

static void *kr_page_buf(void)
{
	void *p;

	if (posix_memalign(&p, KR_PAGE, KR_PAGE))
		kr_die("posix_memalign");
	return p;
}

/*
 * Tag of page i at generation g: distinct per page so a wrong-page read is caught too,
 * and never zero (zero is what a truncated or never-written page reads as).
 */
static uint64_t kr_tag(long page, uint64_t gen)
{
	return ((gen + 1) << 20) | (uint64_t)page;
}

/* Create/size the file and write generation 0 of every page with O_DIRECT (no cache). */
static int kr_prepare_file(const struct kr_args *a, int *dfd_out)
{
	int dfd = open(a->file, O_RDWR | O_CREAT | O_DIRECT, 0644);
	uint64_t *buf = kr_page_buf();

	if (dfd < 0)
		kr_die("open O_DIRECT");
	if (ftruncate(dfd, a->pages * KR_PAGE))
		kr_die("ftruncate");
	for (long i = 0; i < a->pages; i++) {
		kr_fill(buf, kr_tag(i, 0));
		if (pwrite(dfd, buf, KR_PAGE, i * KR_PAGE) != KR_PAGE)
			kr_die("initial pwrite");
	}
	free(buf);
	*dfd_out = dfd;
	return open(a->file, O_RDWR);
}

/*
 * Fault thread support: a MAP_SHARED read mapping whose PTEs are zapped with
 * MADV_DONTNEED and refaulted page by page. SIGBUS (page past EOF) is counted and
 * the touch skipped via siglongjmp.
 */
static __thread sigjmp_buf kr_bus_jmp;
static __thread volatile int kr_bus_armed;

static void kr_sigbus(int sig)
{
	(void)sig;
	if (kr_bus_armed)
		siglongjmp(kr_bus_jmp, 1);
	_exit(3);
}

static void kr_catch_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kr_sigbus;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
}

/* Read the first word of page i of the mapping; returns 0 and sets *sigbus on SIGBUS. */
static uint64_t kr_touch(volatile const uint64_t *map, long i, int *sigbus)
{
	uint64_t v = 0;

	*sigbus = 0;
	kr_bus_armed = 1;
	if (sigsetjmp(kr_bus_jmp, 1) == 0)
		v = map[i * (KR_PAGE / sizeof(uint64_t))];
	else
		*sigbus = 1;
	kr_bus_armed = 0;
	return v;
}

#endif
