host_tests += page_alloc
host_page_alloc_srcs := tests/host/test_page_alloc.c mm/page_alloc.c
