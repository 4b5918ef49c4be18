# The hvdirty protocol's codec (virt/hvdirty_codec.c): framing, the
# checks of a request in their order, byte-by-byte and back-to-back
# streams, and the replies it writes.
host_tests += hvdirty_codec
host_hvdirty_codec_srcs := tests/host/test_hvdirty_codec.c virt/hvdirty_codec.c
host_hvdirty_codec_deps := virt/hvdirty_codec.h virt/hvdirty_proto.h tests/host/hvd_msg.h
