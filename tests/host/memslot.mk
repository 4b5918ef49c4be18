# Memslots (mm/memslot.c) and the MMIO decode over them
# (virt/mmio_lookup.c). A second binary runs only the tests that use
# threads under ThreadSanitizer (instead of ASan, which it cannot be
# combined with). -Wno-tsan: TSan does not model the acquire fence in
# memslot_cache_fill(); the happens-before the tests rely on comes from
# the acquire and seq_cst accesses, which it does model.
host_tests += memslot memslot_tsan
host_memslot_srcs := tests/host/test_memslot.c mm/memslot.c virt/mmio_lookup.c
host_memslot_deps := mm/memslot.h virt/mmio_lookup.h virt/vm.h lib/spinlock.h
host_memslot_cflags := -pthread
host_memslot_tsan_srcs := $(host_memslot_srcs)
host_memslot_tsan_deps := $(host_memslot_deps)
host_memslot_tsan_cflags := -pthread -fno-sanitize=all -fsanitize=thread -Wno-tsan \
	-DMEMSLOT_RACES_ONLY
