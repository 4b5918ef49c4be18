# The Linux guests' user space (docs/linux.md): our static aarch64
# programs and the initramfs that carries them with Debian's busybox and
# virtio-vsock modules. The kernel and those files come from Debian's
# arm64 packages, fetched by scripts/setup.sh into build/third_party/linux
# (whatever O= is). Scenarios name them as
#   kernel = ${srctree}/build/third_party/linux/Image
#   initrd = ${obj}/linux/initramfs.cpio.gz

linux_debian := $(srctree)/build/third_party/linux
linux_progs := dirtier imgdigest
LINUX_USER_CFLAGS := -std=gnu11 -O2 -static -pthread -Wall -Wextra -Werror -I$(srctree)

$(obj)/linux/%: $(srctree)/tests/linux/%.c $(srctree)/virt/hvdirty_proto.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      linux/$*")
	$(Q)$(CC) $(LINUX_USER_CFLAGS) $< -o $@

$(linux_debian)/%:
	@echo "$@ is missing: run make setup (scripts/setup.sh fetches it)" >&2; exit 1

$(obj)/linux/initramfs.cpio.gz: $(srctree)/scripts/mkinitramfs.sh $(srctree)/tests/linux/init \
		$(linux_debian)/busybox $(addprefix $(obj)/linux/,$(linux_progs)) \
		$(obj)/tools/hvdirty/hvdirty
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CPIO    linux/initramfs.cpio.gz")
	$(Q)$(srctree)/scripts/mkinitramfs.sh $@ $(srctree)/tests/linux/init $(linux_debian) \
		$(addprefix $(obj)/linux/,$(linux_progs)) $(obj)/tools/hvdirty/hvdirty
