# The split-virtqueue walker (virt/virtqueue.c) on a guest memory image
# and queue parameters from the input; the guest memory is ASan-poisoned
# outside the ranges vq_mem.map() accepted.
fuzz_targets += virtqueue
fuzz_virtqueue_srcs := tests/fuzz/fuzz_virtqueue.c virt/virtqueue.c
fuzz_virtqueue_deps := virt/virtqueue.h
