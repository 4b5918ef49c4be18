host_tests += memrange
host_memrange_srcs := tests/host/test_memrange.c lib/memrange.c
