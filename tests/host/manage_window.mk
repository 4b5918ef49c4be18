# Where attach puts a target's memory and rings in a manager's IPA space
# (virt/manage_window.c).
host_tests += manage_window
host_manage_window_srcs := tests/host/test_manage_window.c virt/manage_window.c
host_manage_window_deps := virt/manage_window.h
