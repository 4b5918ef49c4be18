host_tests += esr
host_esr_srcs := tests/host/test_esr.c arch/arm64/esr.c
