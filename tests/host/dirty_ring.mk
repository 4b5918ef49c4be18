# Dirty rings (mm/dirty_ring.c): unit tests under ASan/UBSan, and a
# ThreadSanitizer binary in which a producer, a consumer and a resetter
# thread hand entries over. That binary also runs dirty_ring_relaxed, the
# same threaded test over a ring built with every order relaxed, and
# passes only if TSan reports a data race in it. dirty_ring_relaxed is
# built as a prerequisite of the TSan binary, not as a test of its own:
# it is not in host_tests, and its name does not start with test_.
host_tests += dirty_ring dirty_ring_tsan
host_dirty_ring_srcs := tests/host/test_dirty_ring.c mm/dirty_ring.c
host_dirty_ring_deps := mm/dirty_ring.h
host_dirty_ring_tsan_srcs := tests/host/test_dirty_ring_tsan.c mm/dirty_ring.c
host_dirty_ring_tsan_deps := $(host_dirty_ring_deps)
host_dirty_ring_tsan_cflags := -pthread -fno-sanitize=all -fsanitize=thread

dirty_ring_relaxed_orders := -DDIRTY_RING_ACQUIRE=__ATOMIC_RELAXED \
	-DDIRTY_RING_RELEASE=__ATOMIC_RELAXED

$(obj)/host/test_dirty_ring_tsan: $(obj)/host/dirty_ring_relaxed

$(obj)/host/dirty_ring_relaxed: $(addprefix $(srctree)/,$(host_dirty_ring_tsan_srcs) \
		$(host_dirty_ring_tsan_deps)) \
		$(srctree)/tests/host/test_main.c $(srctree)/tests/host/test.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  host/dirty_ring_relaxed")
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $(host_dirty_ring_tsan_cflags) \
		$(dirty_ring_relaxed_orders) \
		$(addprefix $(srctree)/,$(host_dirty_ring_tsan_srcs)) \
		$(srctree)/tests/host/test_main.c -o $@
