/*
 * dirtier: the workload of the Linux test scenarios. It keeps writing to
 * a block of its memory at a steady rate, so that a manager has dirty
 * pages to harvest and a checkpoint has something to converge on, and
 * it takes orders over vsock, so that the manager decides when it ends.
 *
 *   dirtier [--mb N] [--rate PAGES_PER_S] [--threads T] [--port P]
 *       Allocates and touches N MiB (default 32), starts T writer threads
 *       (default 2) that together write to RATE pages a second (default
 *       2000; 0: as fast as they can), each page of its share picked at
 *       random, and serves port P (default 5000) on every CID. A line
 *       "status" is answered "ready written=<pages written>", a line
 *       "stop" stops the writers, is answered "stopped written=<n>" and
 *       ends the program (exit 0).
 *   dirtier ctl CID PORT COMMAND [WAIT_S]
 *       Sends COMMAND to a dirtier at CID:PORT, prints its answer, exits
 *       0. Until WAIT_S seconds (default 0: one try) have passed it tries
 *       again every 100 ms while nobody listens there yet.
 *
 * Exit status 1 with a message on stderr for anything that fails; 2 for
 * a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define PAGE_SIZE 4096u
#define MAX_THREADS 16u
#define TICKS_PER_S 100u              /* the writers pace themselves in 10 ms steps */
#define NS_PER_S 1000000000ull
#define RETRY_NS (100ull * 1000000)   /* ctl: between tries while nobody listens */
#define LINE_MAX_LEN 64u

struct writer {
	pthread_t thread;
	uint8_t *base;                /* its share of the block */
	size_t pages;
	unsigned int per_tick;        /* pages a tick; 0: no pacing */
	uint64_t seed;
	uint64_t written;             /* only its writer stores; main reads it relaxed */
};

/* Set by main (release) when a "stop" arrives; the writers poll it with
 * acquire, so that a writer seeing it has seen nothing newer to do. */
static bool stop_writers;

static void die(const char *what)
{
	fprintf(stderr, "dirtier: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec t = { (time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/* xorshift64: a cheap, reproducible page picker. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One write to a random page of @w's share: a new value, at a word that
 * moves with it, so that every write changes the page. */
static void write_one(struct writer *w)
{
	uint64_t r = next_random(&w->seed);
	uint64_t *page = (uint64_t *)(w->base + (r % w->pages) * PAGE_SIZE);
	uint64_t n = w->written + 1;   /* its own store: no one else writes it */

	page[(r >> 32) % (PAGE_SIZE / sizeof(uint64_t))] = n;
	__atomic_store_n(&w->written, n, __ATOMIC_RELAXED);   /* a progress figure for "status" */
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t tick = now_ns();

	while (!__atomic_load_n(&stop_writers, __ATOMIC_ACQUIRE)) {
		unsigned int n = w->per_tick ? w->per_tick : 1024;

		for (unsigned int i = 0; i < n; i++)
			write_one(w);
		if (w->per_tick) {
			tick += NS_PER_S / TICKS_PER_S;
			sleep_until(tick);
		}
	}
	return NULL;
}

static unsigned long parse_number(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "dirtier: %s '%s' is not a number\n", what, s);
		exit(2);
	}
	return v;
}

/* Reads one line (without its newline) from @fd; false at EOF or error. */
static bool read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return true;
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t r = write(fd, s, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("answering");
		s += r;
		len -= (size_t)r;
	}
}

static uint64_t stop_all(struct writer *w, unsigned int n)
{
	uint64_t total = 0;

	/* Pairs with the acquire in writer_main(). */
	__atomic_store_n(&stop_writers, true, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		total += w[i].written;
	}
	return total;
}

/* Serves one connection; true once it said "stop". */
static bool serve(int fd, struct writer *w, unsigned int n)
{
	char line[LINE_MAX_LEN], answer[LINE_MAX_LEN];

	while (read_line(fd, line, sizeof(line))) {
		if (!strcmp(line, "stop")) {
			uint64_t total = stop_all(w, n);

			snprintf(answer, sizeof(answer), "stopped written=%llu\n",
				 (unsigned long long)total);
			write_all(fd, answer);
			return true;
		}
		if (!strcmp(line, "status")) {
			uint64_t total = 0;

			/* Relaxed, racy on purpose: a progress figure. */
			for (unsigned int i = 0; i < n; i++)
				total += __atomic_load_n(&w[i].written, __ATOMIC_RELAXED);
			snprintf(answer, sizeof(answer), "ready written=%llu\n",
				 (unsigned long long)total);
		} else {
			snprintf(answer, sizeof(answer), "unknown command\n");
		}
		write_all(fd, answer);
	}
	return false;
}

static int listen_on(unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		die("vsock socket (are the vsock modules loaded?)");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
		die("listening on the vsock port");
	return fd;
}

static int run_dirtier(int argc, char **argv)
{
	unsigned long mb = 32, rate = 2000, threads = 2, port = 5000;
	static struct writer w[MAX_THREADS];
	uint8_t *block;
	size_t pages;
	int lfd;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--mb"))
			mb = parse_number(v, "--mb");
		else if (!strcmp(argv[i], "--rate"))
			rate = parse_number(v, "--rate");
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_number(v, "--threads");
		else if (!strcmp(argv[i], "--port"))
			port = parse_number(v, "--port");
		else
			goto usage;
		i++;
	}
	if (!mb || !threads || threads > MAX_THREADS || mb * 256 < threads) {
		fprintf(stderr, "dirtier: need --mb >= 1 and 1 <= --threads <= %u\n", MAX_THREADS);
		return 2;
	}
	pages = mb * (1024 * 1024 / PAGE_SIZE);
	block = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (block == MAP_FAILED)
		die("allocating the block");
	memset(block, 0x5a, pages * PAGE_SIZE);
	lfd = listen_on((unsigned int)port);
	for (unsigned int i = 0; i < threads; i++) {
		size_t share = pages / threads;

		w[i] = (struct writer){
			.base = block + i * share * PAGE_SIZE,
			.pages = share,
			.per_tick = (unsigned int)((rate + threads * TICKS_PER_S - 1) /
						   (threads * TICKS_PER_S)),
			.seed = 0x9e3779b97f4a7c15ull * (i + 1),
		};
		if (pthread_create(&w[i].thread, NULL, writer_main, &w[i]))
			die("starting a writer");
	}
	printf("dirtier: ready: %lu MiB, %lu threads, %lu pages/s, vsock port %lu\n",
	       mb, threads, rate, port);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		bool stopped;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accepting");
		}
		stopped = serve(fd, w, (unsigned int)threads);
		close(fd);
		if (stopped)
			return 0;
	}
usage:
	fprintf(stderr, "usage: dirtier [--mb N] [--rate PAGES_PER_S] [--threads T] [--port P]\n"
			"       dirtier ctl CID PORT COMMAND [WAIT_S]\n");
	return 2;
}

/* Connects to @cid:@port, trying again while nobody listens there
 * (ECONNRESET: the hypervisor's answer to a closed port) until @deadline. */
static int connect_until(unsigned int cid, unsigned int port, uint64_t deadline)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };

	for (;;) {
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

		if (fd < 0)
			die("vsock socket (are the vsock modules loaded?)");
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		if (errno != ECONNRESET || now_ns() >= deadline)
			die("connecting");
		sleep_until(now_ns() + RETRY_NS);
	}
}

static int run_ctl(int argc, char **argv)
{
	char line[LINE_MAX_LEN], cmd[LINE_MAX_LEN];
	unsigned long wait_s;
	int fd;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: dirtier ctl CID PORT COMMAND [WAIT_S]\n");
		return 2;
	}
	wait_s = argc == 6 ? parse_number(argv[5], "WAIT_S") : 0;
	fd = connect_until((unsigned int)parse_number(argv[2], "CID"),
			   (unsigned int)parse_number(argv[3], "PORT"),
			   now_ns() + wait_s * NS_PER_S);
	snprintf(cmd, sizeof(cmd), "%s\n", argv[4]);
	write_all(fd, cmd);
	if (!read_line(fd, line, sizeof(line))) {
		fprintf(stderr, "dirtier: no answer to '%s'\n", argv[4]);
		return 1;
	}
	printf("%s\n", line);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return run_ctl(argc, argv);
	return run_dirtier(argc, argv);
}
