# Bare-metal test guests (tests/guests/README.md): EL1 images the QEMU
# scenarios run inside VMs, built with the same cross compiler as the
# hypervisor but none of its objects or configuration.
#   make O=dir guests     every $(O)/guests/<name>.bin (and .elf)

guest_names := hello smp timer attacker mempattern trapbench reset dirtywork dirtycheck dirtybench \
	hvdmgr

guest_out := $(obj)/guests
# Sources of one guest beyond tests/guests/<name>.c.
guest_hello_srcs := tests/guests/hello_fpsimd.S
guest_dirtycheck_srcs := tests/guests/dirtyround.c tests/guests/gutil.c
guest_hvdmgr_srcs := tests/guests/hvd_client.c \
	tests/guests/vsock_drv.c tests/guests/dirtyround.c tests/guests/gutil.c

# The runtime and the lib/ pieces it reuses, compiled again for EL1.
guest_rt_srcs := tests/guests/rt/start.S tests/guests/rt/vectors.S \
	tests/guests/rt/rt.c tests/guests/rt/args.c tests/guests/rt/gic.c \
	tests/guests/rt/gicv2.c tests/guests/rt/gicv3.c \
	arch/arm64/self_reloc.S \
	lib/string.c lib/printf.c lib/fdt.c lib/console.c lib/memrange.c \
	boot/board.c arch/arm64/esr.c arch/arm64/smccc.S
guest_obj = $(patsubst %,$(guest_out)/obj/%.o,$(basename $(1)))
guest_rt_objs := $(call guest_obj,$(guest_rt_srcs))

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-ffreestanding -fno-builtin -fno-common -fno-stack-protector \
	-fno-omit-frame-pointer -ffunction-sections -fdata-sections \
	-march=armv8-a -mno-outline-atomics -fpie -fvisibility=hidden \
	-I$(srctree) -MMD -MP
# The runtime keeps off FP/SIMD (the guests' own code may use it).
GUEST_RT_CFLAGS := $(GUEST_CFLAGS) -mgeneral-regs-only
GUEST_LDFLAGS := -nostdlib -pie --no-dynamic-linker -z norelro \
	-z noexecstack --gc-sections -T $(srctree)/tests/guests/rt/guest.ld

.PHONY: guests
guests: $(foreach g,$(guest_names),$(guest_out)/$(g).bin)

$(guest_out)/obj/tests/guests/rt/%.o: $(srctree)/tests/guests/rt/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      guests/rt/$*.o")
	$(Q)$(CC) $(GUEST_RT_CFLAGS) -c $< -o $@

$(guest_out)/obj/tests/guests/%.o: $(srctree)/tests/guests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      guests/$*.o")
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(guest_out)/obj/%.o: $(srctree)/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      guests: $*.o")
	$(Q)$(CC) $(GUEST_RT_CFLAGS) -c $< -o $@

$(guest_out)/obj/%.o: $(srctree)/%.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      guests: $*.o")
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

define guest_rule
$(guest_out)/$(1).elf: $(call guest_obj,tests/guests/$(1).c $(guest_$(1)_srcs)) \
		$(guest_rt_objs) $(srctree)/tests/guests/rt/guest.ld
	@$$(if $(Q),echo "  LD      guests/$(1).elf")
	$(Q)$(LD) $(GUEST_LDFLAGS) $$(filter %.o,$$^) -o $$@
	$(Q)$(srctree)/scripts/check-image.sh $(OBJDUMP) $$@
endef
$(foreach g,$(guest_names),$(eval $(call guest_rule,$(g))))

$(guest_out)/%.bin: $(guest_out)/%.elf
	@$(if $(Q),echo "  OBJCOPY guests/$*.bin")
	$(Q)$(OBJCOPY) -O binary $< $@

-include $(patsubst %.o,%.d,$(call guest_obj,$(guest_rt_srcs) \
	$(foreach g,$(guest_names),tests/guests/$(g).c $(guest_$(g)_srcs))))
