# tools/hvdirty, the management VM's command-line client: its reply
# checks over a socketpair, and its commands (checkpoint included)
# through hvdirty_main() against a fake service thread that simulates a
# VM's RAM, dirty log and a writer.
host_tests += hvdirty_tool
host_hvdirty_tool_srcs := tests/host/test_hvdirty_tool.c tools/hvdirty/cli.c \
	tools/hvdirty/cmd.c tools/hvdirty/client.c tools/hvdirty/checkpoint.c \
	tools/hvdirty/output.c
host_hvdirty_tool_deps := tools/hvdirty/hvdirty.h tools/hvdirty/cmd.h \
	tools/hvdirty/client.h tools/hvdirty/checkpoint.h tools/hvdirty/output.h \
	virt/hvdirty_proto.h
host_hvdirty_tool_cflags := -pthread
