# The dirty-log service (virt/hvdirty_svc.c) with the codec, over
# recording fakes of a vsock connection and of virt/manage.h:
# authorisation, error mapping, each request's arguments and answer,
# counters, and malformed, partial and unframeable input.
host_tests += hvdirty_svc
host_hvdirty_svc_srcs := tests/host/test_hvdirty_svc.c tests/host/hvdirty_fake.c \
	virt/hvdirty_svc.c virt/hvdirty_codec.c
host_hvdirty_svc_deps := virt/hvdirty_svc.h virt/hvdirty_codec.h virt/hvdirty_proto.h \
	virt/manage.h virt/vsock.h virt/vm.h tests/host/hvd_msg.h tests/host/hvdirty_fake.h
