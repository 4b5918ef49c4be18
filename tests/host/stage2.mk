# Stage-2 table tests: fake physical memory and recording TLB/barrier ops,
# a randomized run against a page model, and a pthread race with a fake
# "hardware" setting DBM dirty bits. lib/string.c is not listed: on the
# host, libc provides memset.
host_tests += stage2
host_stage2_srcs := tests/host/test_stage2.c mm/stage2.c mm/page_alloc.c
host_stage2_deps := mm/stage2.h arch/arm64/stage2_pte.h mm/page_alloc.h
host_stage2_cflags := -pthread
