# The vsock device (virt/vsock.c) on the real transport and walker:
# guests' packets, RX buffers, resets and stops from the input, into
# three VMs on the host test's bench (tests/host/vsock_harness.h), with
# the protocol's invariants checked on everything the guests receive.
fuzz_targets += vsock
fuzz_vsock_srcs := tests/fuzz/fuzz_vsock.c tests/host/vsock_harness.c virt/vsock.c \
	virt/virtio_mmio.c virt/virtqueue.c mm/page_alloc.c
fuzz_vsock_deps := tests/host/vsock_harness.h virt/vsock.h virt/virtio_mmio.h \
	virt/virtqueue.h virt/vm.h virt/manage.h mm/page_alloc.h lib/spinlock.h
