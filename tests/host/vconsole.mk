# The console mux: line assembly, prefixes and escaping; input focus, the
# escape key and the receive interrupt, with the console, UART driver,
# GIC and emulated PL011 stubbed.
host_tests += vconsole
host_vconsole_srcs := tests/host/test_vconsole.c virt/vconsole.c
host_vconsole_deps := virt/vconsole.h virt/vm.h virt/vpl011.h drivers/pl011.h \
	drivers/gic.h lib/console.h
