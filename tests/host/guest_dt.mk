# Guest device tree tests: virt/guest_dt.c's trees read back with lib/fdt.c,
# parsed by boot/board.c, and checked by dtc ($HV_DTC, default dtc) at run
# time. lib/string.c and lib/printf.c are not listed: libc provides them.
host_tests += guest_dt
host_guest_dt_srcs := tests/host/test_guest_dt.c virt/guest_dt.c \
	lib/fdt_write.c lib/fdt.c boot/board.c
host_guest_dt_deps := virt/guest_dt.h virt/guest_map.h lib/fdt_write.h \
	lib/fdt.h boot/board.h
