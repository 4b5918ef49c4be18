host_tests += string
host_string_srcs := tests/host/test_string.c
# test_string.c #includes lib/string.c itself, under renamed symbols.
host_string_deps := lib/string.c lib/string.h
