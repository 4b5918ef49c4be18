# The vsock device (virt/vsock.c) on the real virtio-mmio transport and
# split-virtqueue walker, with model guest drivers in fake VMs and a
# fake CID 2 service (tests/host/vsock_harness.h); page allocation is
# the real allocator, so a leaked connection buffer fails the test.
host_tests += vsock
host_vsock_srcs := tests/host/test_vsock.c tests/host/vsock_harness.c virt/vsock.c \
	virt/virtio_mmio.c virt/virtqueue.c mm/page_alloc.c
host_vsock_deps := tests/host/vsock_harness.h virt/vsock.h virt/virtio_mmio.h \
	virt/virtqueue.h virt/vm.h virt/manage.h mm/page_alloc.h lib/spinlock.h
