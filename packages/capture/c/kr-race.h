/*
 * The race engine the workloads share: an O_DIRECT writer, a mmap faulter, a cache
 * dropper, a truncater and a buffered reader, each a pthread working on one file.
 * A workload picks its threads; every check compares 64-bit page tags ((generation + 1) << 20
 * | page index) against the newest generation whose O_DIRECT write had completed before
 * the check began, so "older than that" is stale data the kernel should never show.
 * A zero word is a truncated page (expected only when a truncater runs).
 */
#ifndef KR_RACE_H
#define KR_RACE_H
#include "kr.h"

#define KR_MAX_MARKED_MISMATCHES 32
#define KR_UNUSED __attribute__((unused))

struct kr_race {
	struct kr_args a;
	int dfd;		/* O_DIRECT descriptor (writer) */
	int bfd;		/* buffered descriptor (reads, fadvise, ftruncate) */
	volatile uint64_t *map;	/* MAP_SHARED read mapping of the file, or NULL */
	uint64_t *completed;	/* per page: tag of the newest completed O_DIRECT write */
	int truncating;		/* a truncater runs: zero pages are expected */
	/* counters (updated atomically) */
	uint64_t writes, touches, reads, drops, shrinks, regrows, remaps;
	uint64_t sigbus, sigbus_low, write_sigbus, zero_seen;
	uint64_t map_stale, read_stale, fault_stale, wrong_page;
	uint64_t marked;
};

static void kr_count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static uint64_t kr_completed(struct kr_race *r, long i)
{
	return __atomic_load_n(&r->completed[i], __ATOMIC_ACQUIRE);
}

/*
 * Judge a value read from page i against the completed tag snapshot taken before the
 * read began. Returns 1 when it is a mismatch (counted in *kind).
 */
static int kr_judge(struct kr_race *r, const char *what, uint64_t *kind, long i,
		    uint64_t before, uint64_t got)
{
	if (got == 0) {
		kr_count(&r->zero_seen);
		if (r->truncating)
			return 0;
	} else if ((got & 0xfffff) != (uint64_t)i) {
		kind = &r->wrong_page;
	} else if ((got >> 20) >= (before >> 20)) {
		return 0;
	}
	kr_count(kind);
	if (__atomic_add_fetch(&r->marked, 1, __ATOMIC_RELAXED) <= KR_MAX_MARKED_MISMATCHES)
		kr_marker("mismatch kind=%s index=%ld want=%#llx got=%#llx", what, i,
			  (unsigned long long)before, (unsigned long long)got);
	return 1;
}

/* O_DIRECT writer: round-robin over the pages, one new generation per write. */
KR_UNUSED static void *kr_writer(void *arg)
{
	struct kr_race *r = arg;
	uint64_t *buf = kr_page_buf(), *rbuf = kr_page_buf();

	kr_name_thread("kr-write");
	for (uint64_t n = 0; !kr_stopped(); n++) {
		long i = n % r->a.pages;
		uint64_t tag = kr_tag(i, n / r->a.pages + 1);
		int bus;

		kr_fill(buf, tag);
		if (pwrite(r->dfd, buf, KR_PAGE, i * KR_PAGE) != KR_PAGE)
			kr_die("O_DIRECT pwrite");
		__atomic_store_n(&r->completed[i], tag, __ATOMIC_RELEASE);
		kr_count(&r->writes);
		/* Coherency after the write returned: the mapping, then a buffered read. */
		if (r->map) {
			uint64_t got = kr_touch(r->map, i, &bus);

			if (bus)
				kr_count(&r->write_sigbus);
			else
				kr_judge(r, "map_stale", &r->map_stale, i, tag, got);
		}
		if (pread(r->bfd, rbuf, KR_PAGE, i * KR_PAGE) == KR_PAGE)
			kr_judge(r, "read_stale", &r->read_stale, i, tag, rbuf[0]);
	}
	free(buf);
	free(rbuf);
	return NULL;
}

/* Faulter: zap this thread's PTEs, then refault every page of the mapping. */
KR_UNUSED static void *kr_faulter(void *arg)
{
	struct kr_race *r = arg;
	size_t len = r->a.pages * KR_PAGE;

	kr_name_thread("kr-fault");
	while (!kr_stopped()) {
		if (madvise((void *)r->map, len, MADV_DONTNEED))
			kr_die("madvise");
		for (long i = 0; i < r->a.pages && !kr_stopped(); i++) {
			uint64_t before = kr_completed(r, i);
			int bus;
			uint64_t got = kr_touch(r->map, i, &bus);

			kr_count(&r->touches);
			if (bus) {
				kr_count(&r->sigbus);
				/* Pages below the shrink point are never past EOF. */
				if (i < r->a.pages / 2)
					kr_count(&r->sigbus_low);
				continue;
			}
			kr_judge(r, "fault_stale", &r->fault_stale, i, before, got);
		}
	}
	return NULL;
}

/* Dropper: posix_fadvise(DONTNEED) over the whole file (invalidate_mapping_pages). */
KR_UNUSED static void *kr_dropper(void *arg)
{
	struct kr_race *r = arg;

	kr_name_thread("kr-drop");
	while (!kr_stopped()) {
		if (posix_fadvise(r->bfd, 0, 0, POSIX_FADV_DONTNEED))
			kr_die("posix_fadvise");
		kr_count(&r->drops);
		sched_yield();
	}
	return NULL;
}

/* Truncater: shrink the file to half its pages, then regrow it (truncate_pagecache). */
KR_UNUSED static void *kr_truncater(void *arg)
{
	struct kr_race *r = arg;

	kr_name_thread("kr-trunc");
	while (!kr_stopped()) {
		if (ftruncate(r->bfd, (r->a.pages / 2) * KR_PAGE))
			kr_die("ftruncate shrink");
		kr_count(&r->shrinks);
		sched_yield();
		if (ftruncate(r->bfd, r->a.pages * KR_PAGE))
			kr_die("ftruncate regrow");
		kr_count(&r->regrows);
		sched_yield();
	}
	return NULL;
}

/*
 * Remapper: map only the file's last page, in a 2 MiB region of the address space no other
 * mapping shares (so its page table is new: the PMD is empty), touch it, unmap it (which
 * frees that page table again). With fault-around on, the first cached folio of the
 * window is then the file's last one: the case 74207de2ba10's can_map_large turns off
 * the PMD/page-table install for. The PTE slot moves through the 512 of a table.
 */
#define KR_REMAP_BASE 0x500000000000UL
#define KR_REMAP_REGIONS 64
KR_UNUSED static void *kr_remapper(void *arg)
{
	struct kr_race *r = arg;
	long last = r->a.pages - 1;

	kr_name_thread("kr-remap");
	for (uint64_t n = 0; !kr_stopped(); n++) {
		uintptr_t region = KR_REMAP_BASE + (n % KR_REMAP_REGIONS) * (2UL << 20);
		void *want = (void *)(region + (n % 512) * KR_PAGE);
		uint64_t before = kr_completed(r, last);
		int bus;
		void *m = mmap(want, KR_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, r->bfd, last * KR_PAGE);
		uint64_t got;

		if (m == MAP_FAILED)
			kr_die("mmap (remapper)");
		kr_count(&r->remaps);
		got = kr_touch(m, 0, &bus);
		kr_count(&r->touches);
		if (bus)
			kr_count(&r->sigbus);
		else
			kr_judge(r, "fault_stale", &r->fault_stale, last, before, got);
		if (munmap(m, KR_PAGE))
			kr_die("munmap (remapper)");
	}
	return NULL;
}

/*
 * Slow truncater: as kr_truncater, but the file stays whole for KR_SLOW_TRUNC_US between
 * shrinks, long enough for the remapper to bring the last page back and map it several times.
 */
#define KR_SLOW_TRUNC_US 2000
KR_UNUSED static void *kr_slow_truncater(void *arg)
{
	struct kr_race *r = arg;

	kr_name_thread("kr-trunc");
	while (!kr_stopped()) {
		usleep(KR_SLOW_TRUNC_US);
		if (ftruncate(r->bfd, (r->a.pages / 2) * KR_PAGE))
			kr_die("ftruncate shrink");
		kr_count(&r->shrinks);
		if (ftruncate(r->bfd, r->a.pages * KR_PAGE))
			kr_die("ftruncate regrow");
		kr_count(&r->regrows);
	}
	return NULL;
}

/* Buffered reader: pread every page and check it against completed writes. */
KR_UNUSED static void *kr_reader(void *arg)
{
	struct kr_race *r = arg;
	uint64_t *buf = kr_page_buf();

	kr_name_thread("kr-read");
	while (!kr_stopped()) {
		for (long i = 0; i < r->a.pages && !kr_stopped(); i++) {
			uint64_t before = kr_completed(r, i);

			if (pread(r->bfd, buf, KR_PAGE, i * KR_PAGE) != KR_PAGE)
				continue; /* short read past a concurrent EOF */
			kr_count(&r->reads);
			kr_judge(r, "read_stale", &r->read_stale, i, before, buf[0]);
		}
	}
	free(buf);
	return NULL;
}

typedef void *(*kr_thread_fn)(void *);

/*
 * Prepare the file, start the given threads, race for the duration, join, and print
 * the result line. want_map: create the shared read mapping.
 */
static int kr_race_main(int argc, char **argv, const char *name, int want_map,
			int truncating, kr_thread_fn *threads, int nthreads)
{
	struct kr_race r;
	pthread_t tid[8];
	uint64_t t0;

	memset(&r, 0, sizeof(r));
	kr_parse_args(argc, argv, &r.a);
	r.truncating = truncating;
	kr_catch_sigbus();
	kr_marker("phase=prepare workload=%s pages=%ld", name, r.a.pages);
	r.bfd = kr_prepare_file(&r.a, &r.dfd);
	if (r.bfd < 0)
		kr_die("open buffered");
	r.completed = calloc(r.a.pages, sizeof(uint64_t));
	for (long i = 0; i < r.a.pages; i++)
		r.completed[i] = kr_tag(i, 0);
	if (want_map) {
		void *m = mmap(NULL, r.a.pages * KR_PAGE, PROT_READ, MAP_SHARED, r.bfd, 0);

		if (m == MAP_FAILED)
			kr_die("mmap");
		r.map = m;
	}
	kr_marker("phase=race begin duration_ms=%ld threads=%d", r.a.duration_ms, nthreads);
	t0 = kr_now_ms();
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&tid[t], NULL, threads[t], &r))
			kr_die("pthread_create");
	kr_run_for(r.a.duration_ms);
	for (int t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	kr_marker("phase=race end");
	printf("KREPLAY_RESULT workload=%s duration_ms=%llu pages=%ld writes=%llu touches=%llu "
	       "reads=%llu drops=%llu shrinks=%llu regrows=%llu sigbus=%llu sigbus_low=%llu "
	       "write_sigbus=%llu zero_seen=%llu map_stale=%llu read_stale=%llu fault_stale=%llu "
	       "wrong_page=%llu remaps=%llu mismatches=%llu\n",
	       name, (unsigned long long)(kr_now_ms() - t0), r.a.pages,
	       (unsigned long long)r.writes, (unsigned long long)r.touches,
	       (unsigned long long)r.reads, (unsigned long long)r.drops,
	       (unsigned long long)r.shrinks, (unsigned long long)r.regrows,
	       (unsigned long long)r.sigbus, (unsigned long long)r.sigbus_low,
	       (unsigned long long)r.write_sigbus, (unsigned long long)r.zero_seen,
	       (unsigned long long)r.map_stale, (unsigned long long)r.read_stale,
	       (unsigned long long)r.fault_stale, (unsigned long long)r.wrong_page,
	       (unsigned long long)r.remaps,
	       (unsigned long long)(r.map_stale + r.read_stale + r.fault_stale + r.wrong_page));
	fflush(stdout);
	if (r.map)
		munmap((void *)r.map, r.a.pages * KR_PAGE);
	close(r.dfd);
	close(r.bfd);
	return 0;
}

#endif
