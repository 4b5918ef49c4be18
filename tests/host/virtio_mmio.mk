# The virtio-mmio v2 transport (virt/virtio_mmio.c) driven through its
# registers as Linux's virtio_mmio driver does, with the real walker
# over a fake guest RAM; the vGIC, guest_write_begin/done and printf
# are recording fakes, the device type a fake with three queues.
host_tests += virtio_mmio
host_virtio_mmio_srcs := tests/host/test_virtio_mmio.c virt/virtio_mmio.c \
	virt/virtqueue.c
host_virtio_mmio_deps := virt/virtio_mmio.h virt/virtqueue.h virt/guest_mem.h \
	virt/vgic.h virt/vm.h virt/vsock.h lib/spinlock.h
