/*
 * Dirty rings (mm/dirty_ring.c) under ThreadSanitizer: a producer, a
 * consumer and a resetter thread hand every entry over through the
 * ring's acquire/release pairs, and each sequence number must arrive
 * exactly once and in order. The same test built over a ring whose
 * orders are all relaxed (dirty_ring_relaxed, see dirty_ring.mk) must
 * be reported by TSan: the last test here runs it and checks that.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/compiler.h"
#include "mm/dirty_ring.h"
#include "tests/host/test.h"

#define RACE_ENTRIES 64
#define RACE_RESERVE 8
#define RACE_PUSHES 300000u
#define RACE_BATCH 8                         /* entries per collect / reset */
#define RACE_FETCH (RACE_BATCH / 2)          /* entries per reset_fetch */
#define RACE_START (0xffffffffu - RACE_PUSHES / 2)   /* indices wrap mid-run */
#define RACE_SLOT(seq) ((u32)((seq) % 5))
/* Seconds without progress after which a thread gives up: some entry
 * was lost and the others would wait for it forever. */
#define STALL_SECONDS 30

/* Each result field is written by one thread, read after the joins. */
struct race {
	struct dirty_ring ring;
	struct dirty_gfn gfns[RACE_ENTRIES];
	bool producer_stalled;
	u64 collected;               /* consumer: entries received */
	u64 collect_errors;          /* ... out of order or mangled */
	bool consumer_stalled;
	u64 reprotected;             /* resetter: entries fetched and freed */
	u64 reset_errors;            /* ... out of order or mangled */
	bool resetter_stalled;
};

/* A thread's time without progress. */
struct stall {
	bool waiting;
	struct timespec since;
};

/* Notes a round and yields if it was fruitless; true once it is time
 * to give up. */
static bool stalled(struct stall *s, bool progress)
{
	struct timespec now;

	if (progress) {
		s->waiting = false;
		return false;
	}
	sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!s->waiting) {
		s->waiting = true;
		s->since = now;
	}
	return now.tv_sec - s->since.tv_sec >= STALL_SECONDS;
}

static void *race_producer(void *arg)
{
	struct race *r = arg;
	struct stall idle = { 0 };

	for (u64 seq = 0; seq < RACE_PUSHES;) {
		bool pushed = dirty_ring_push(&r->ring, RACE_SLOT(seq), seq) !=
			      DIRTY_RING_FULL;

		if (pushed)
			seq++;
		if (stalled(&idle, pushed)) {
			r->producer_stalled = true;
			break;
		}
	}
	return NULL;
}

static void *race_consumer(void *arg)
{
	struct race *r = arg;
	struct dirty_gfn out[RACE_BATCH];
	struct stall idle = { 0 };

	while (r->collected < RACE_PUSHES) {
		u32 n = dirty_ring_collect(&r->ring, out, RACE_BATCH);

		for (u32 i = 0; i < n; i++, r->collected++) {
			if (out[i].offset != r->collected ||
			    out[i].slot != RACE_SLOT(r->collected) ||
			    out[i].flags != DIRTY_GFN_F_DIRTY)
				r->collect_errors++;
		}
		if (stalled(&idle, n != 0)) {
			r->consumer_stalled = true;
			break;
		}
	}
	return NULL;
}

/*
 * One reset as mm/dirty_log.c does it: fetches of RACE_FETCH entries,
 * each from where the last stopped, until one comes back short or the
 * reset holds RACE_BATCH; checks each entry, then frees them all.
 */
static u32 race_reset_once(struct race *r)
{
	struct dirty_gfn batch[RACE_FETCH];
	u32 n = 0, got;

	do {
		got = dirty_ring_reset_fetch(&r->ring, n, batch, RACE_FETCH);
		for (u32 i = 0; i < got; i++, r->reprotected++) {
			if (batch[i].offset != r->reprotected ||
			    batch[i].slot != RACE_SLOT(r->reprotected) ||
			    batch[i].flags != DIRTY_GFN_F_RESET)
				r->reset_errors++;
		}
		n += got;
	} while (got == RACE_FETCH && n < RACE_BATCH);
	dirty_ring_reset_finish(&r->ring, n);
	return n;
}

static void *race_resetter(void *arg)
{
	struct race *r = arg;
	struct stall idle = { 0 };

	while (r->reprotected < RACE_PUSHES) {
		u32 n = race_reset_once(r);

		if (stalled(&idle, n != 0)) {
			r->resetter_stalled = true;
			break;
		}
	}
	return NULL;
}

TEST(threads_hand_over_every_entry_once_in_order)
{
	static struct race r;   /* zeroed entries */
	void *(*const roles[])(void *) = { race_producer, race_consumer,
					   race_resetter };
	pthread_t t[3];

	CHECK_EQ(dirty_ring_init(&r.ring, r.gfns, RACE_ENTRIES, RACE_RESERVE), 0);
	r.ring.dirty_index = RACE_START;
	r.ring.reset_index = RACE_START;
	r.ring.fetch_index = RACE_START;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, roles[i], &r), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(!r.producer_stalled);
	CHECK(!r.consumer_stalled);
	CHECK(!r.resetter_stalled);
	CHECK_EQ(r.collected, RACE_PUSHES);
	CHECK_EQ(r.collect_errors, 0);
	CHECK_EQ(r.reprotected, RACE_PUSHES);
	CHECK_EQ(r.reset_errors, 0);
	CHECK_EQ(dirty_ring_used(&r.ring), 0);
	CHECK_EQ(r.ring.dirty_index, (u32)(RACE_START + RACE_PUSHES));
}

/* The relaxed build must not run the test that runs it. */
#ifndef DIRTY_RING_ACQUIRE

#define RELAXED_BINARY "dirty_ring_relaxed"   /* beside this binary */
#define REPORT_KEEP 65536                      /* stderr bytes kept */
#define TSAN_EXIT 66                           /* child's status on a report */
#define STRINGIFY(x) #x
#define TSAN_OPTIONS(exit) "TSAN_OPTIONS=halt_on_error=1:exitcode=" STRINGIFY(exit)

/* Path of @name in the directory of the running binary, or false. */
static bool beside_self(const char *name, char *path, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", path, size - 1);
	char *slash;

	if (len <= 0)
		return false;
	path[len] = '\0';
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash + 1 - path) + strlen(name) + 1 > size)
		return false;
	strcpy(slash + 1, name);
	return true;
}

/*
 * Runs @argv with @envp, stdout to /dev/null, the start of stderr into
 * @report (NUL-terminated, the rest read and dropped). Returns the
 * wait status, or -1 if it could not be started.
 */
static int run_child(char *const argv[], char *const envp[], char *report,
		     size_t size)
{
	posix_spawn_file_actions_t fa;
	size_t kept = 0;
	int pipefd[2], status = -1;
	char chunk[4096];
	ssize_t got;
	pid_t pid;

	if (pipe(pipefd) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while ((got = read(pipefd[0], chunk, sizeof(chunk))) > 0) {
		size_t take = MIN((size_t)got, size - 1 - kept);

		memcpy(report + kept, chunk, take);
		kept += take;
	}
	report[kept] = '\0';
	close(pipefd[0]);
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	return status;
}

TEST(relaxed_orders_are_reported_by_tsan)
{
	static char report[REPORT_KEEP];
	char path[PATH_MAX];
	/* The name must be the threaded TEST's: the child runs only it. */
	char *argv[] = { path, "threads_hand_over_every_entry_once_in_order", NULL };
	char *envp[] = { TSAN_OPTIONS(TSAN_EXIT), NULL };
	int status;

	CHECK(beside_self(RELAXED_BINARY, path, sizeof(path)));
	CHECK(access(path, X_OK) == 0);
	status = run_child(argv, envp, report, sizeof(report));
	CHECK(status != -1);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), TSAN_EXIT);
	CHECK(strstr(report, "WARNING: ThreadSanitizer: data race"));
	CHECK(strstr(report, "dirty_ring_"));
}

#endif
