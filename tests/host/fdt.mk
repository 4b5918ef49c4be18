# Device tree reader tests; they read build/dtbs/*.dtb (or $HV_DTB_DIR) at
# run time, written by scripts/dump-dtbs.sh: no build-time dependency.
host_tests += fdt
host_fdt_srcs := tests/host/test_fdt.c tests/host/dtb_util.c lib/fdt.c
host_fdt_deps := tests/host/dtb_util.h
