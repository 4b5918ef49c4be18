# The emulated PL011's register model, FIFO and interrupt line, with the
# vGIC and the console mux stubbed; a pthread race of receive and reads.
host_tests += vpl011
host_vpl011_srcs := tests/host/test_vpl011.c virt/vpl011.c
host_vpl011_deps := virt/vpl011.h virt/vm.h virt/guest_map.h
host_vpl011_cflags := -pthread
