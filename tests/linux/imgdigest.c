/*
 * imgdigest FILE: prints hvd_digest (virt/hvdirty_proto.h) of a file, as
 * "imgdigest: FILE: SIZE bytes, digest <16 hex digits>". The Linux
 * checkpoint scenario compares it with the digest the hypervisor logs of
 * the paused VM's RAM: a check of `hvdirty checkpoint`'s image that
 * does not rest on hvdirty's own verification. Exit status 1 if the file
 * cannot be read or its size is not a multiple of 8 bytes; 2 for usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "virt/hvdirty_proto.h"

#define CHUNK (1u << 20)

static uint64_t buf[CHUNK / sizeof(uint64_t)];

/* Reads up to CHUNK bytes, fewer only at the end of the file. */
static ssize_t read_chunk(int fd)
{
	size_t got = 0;

	while (got < CHUNK) {
		ssize_t r = read(fd, (char *)buf + got, CHUNK - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int main(int argc, char **argv)
{
	uint64_t digest = HVD_DIGEST_SEED, size = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: imgdigest FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "imgdigest: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* The words are little-endian in the file and in an arm64 CPU. */
	while ((n = read_chunk(fd)) > 0) {
		if (n % sizeof(uint64_t)) {
			fprintf(stderr, "imgdigest: %s: size is not a multiple of 8 bytes\n", argv[1]);
			return 1;
		}
		digest = hvd_digest_update(digest, buf, (uint64_t)n / sizeof(uint64_t));
		size += (uint64_t)n;
	}
	if (n < 0) {
		fprintf(stderr, "imgdigest: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("imgdigest: %s: %llu bytes, digest %016llx\n", argv[1],
	       (unsigned long long)size, (unsigned long long)digest);
	return 0;
}
