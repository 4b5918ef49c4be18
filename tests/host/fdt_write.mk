# Device tree writer tests: what lib/fdt_write.c writes is read back with
# lib/fdt.c. lib/string.c is not listed: on the host, libc provides it.
host_tests += fdt_write
host_fdt_write_srcs := tests/host/test_fdt_write.c tests/host/dtb_util.c \
	lib/fdt_write.c lib/fdt.c
host_fdt_write_deps := lib/fdt_write.h lib/fdt.h tests/host/dtb_util.h
