# lib/ratelimit.h: the log rate limit for guest-triggered lines.
host_tests += ratelimit
host_ratelimit_srcs := tests/host/test_ratelimit.c
host_ratelimit_deps := lib/ratelimit.h
