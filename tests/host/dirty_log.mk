# The dirty-tracking engine (mm/dirty_log.c) over real stage-2 tables,
# memslots and rings in a fake machine (tests/host/fake_s2.c): unit
# tests, a randomized model checked with dirty_log_test's rule (with the
# hypervisor or a model manager that maps the rings as the consumer),
# and one test per seed race. A second binary runs only the threaded tests under
# ThreadSanitizer (instead of ASan, which it cannot be combined with);
# -Wno-tsan as in memslot.mk, for the acquire fence of mm/memslot.c.
# Fewer consumer rounds there: TSan runs the threads ~10x slower, and
# with more threads than CPUs a ticket lock's preempted waiter stalls
# the others for a time slice.
host_tests += dirty_log dirty_log_tsan
host_dirty_log_srcs := tests/host/test_dirty_log.c tests/host/fake_s2.c \
	mm/dirty_log.c mm/dirty_ring.c mm/memslot.c mm/stage2.c mm/page_alloc.c
host_dirty_log_deps := mm/dirty_log.h mm/dirty_ring.h mm/memslot.h mm/stage2.h \
	mm/page_alloc.h arch/arm64/stage2_pte.h tests/host/fake_s2.h lib/spinlock.h
host_dirty_log_cflags := -pthread
host_dirty_log_tsan_srcs := $(host_dirty_log_srcs)
host_dirty_log_tsan_deps := $(host_dirty_log_deps)
host_dirty_log_tsan_cflags := -pthread -fno-sanitize=all -fsanitize=thread \
	-Wno-tsan -DDIRTY_LOG_RACES_ONLY -DRACE_ROUNDS=500
