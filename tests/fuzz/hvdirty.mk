# The hvdirty protocol decoder (virt/hvdirty_codec.c) fed a stream in
# random chunks, and the dirty-log service (virt/hvdirty_svc.c) behind
# it over the host test's recording fakes (tests/host/hvdirty_fake.h).
fuzz_targets += hvdirty
fuzz_hvdirty_srcs := tests/fuzz/fuzz_hvdirty.c tests/host/hvdirty_fake.c \
	virt/hvdirty_svc.c virt/hvdirty_codec.c
fuzz_hvdirty_deps := virt/hvdirty_codec.h virt/hvdirty_svc.h virt/hvdirty_proto.h \
	virt/manage.h virt/vsock.h tests/host/hvdirty_fake.h tests/host/hvd_msg.h
