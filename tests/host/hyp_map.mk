host_tests += hyp_map
host_hyp_map_srcs := tests/host/test_hyp_map.c mm/hyp_map.c
