# board_from_fdt() tests on the QEMU virt and Raspberry Pi 4 device trees
# (read at run time from $HV_DTB_DIR, default build/dtbs).
host_tests += board
host_board_srcs := tests/host/test_board.c tests/host/dtb_util.c boot/board.c \
	lib/fdt.c
host_board_deps := tests/host/dtb_util.h
