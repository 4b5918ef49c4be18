# The vGIC model (virt/vgic.c) with the real GICv2/GICv3 list-register
# formats over fake CPU interfaces that play the guest's part. A second
# binary runs only the concurrent-injection tests under ThreadSanitizer
# (instead of ASan, which it cannot be combined with).
host_tests += vgic vgic_tsan
host_vgic_srcs := tests/host/test_vgic.c virt/vgic.c virt/vgic_v2.c virt/vgic_v3.c
host_vgic_deps := virt/vgic.h virt/vm.h virt/guest_map.h lib/spinlock.h
host_vgic_cflags := -pthread
host_vgic_tsan_srcs := $(host_vgic_srcs)
host_vgic_tsan_deps := $(host_vgic_deps)
host_vgic_tsan_cflags := -pthread -fno-sanitize=all -fsanitize=thread -DVGIC_RACES_ONLY
