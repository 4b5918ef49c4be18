host_tests += printf
host_printf_srcs := tests/host/test_printf.c
# test_printf.c #includes lib/printf.c itself, under renamed symbols.
host_printf_deps := lib/printf.c lib/printf.h
