# The split-virtqueue walker (virt/virtqueue.c) over a fake guest memory
# and a model driver: set-up checks, every broken-queue rule, 16-bit
# index wrap, event-index suppression, chain copies and wrote() reports.
host_tests += virtqueue
host_virtqueue_srcs := tests/host/test_virtqueue.c virt/virtqueue.c
host_virtqueue_deps := virt/virtqueue.h
