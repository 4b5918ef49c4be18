# Top-level build of the hypervisor: configuration (Kconfig), the EL2
# image, host unit tests and the QEMU runs. `make help` lists the targets.

O ?= build
CROSS_COMPILE ?= aarch64-linux-gnu-
V ?= 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

srctree := $(CURDIR)
obj := $(abspath $(O))
KCONFIG_CONFIG := $(obj)/.config
AUTOCONF := $(obj)/include/config/auto.conf
AUTOHEADER := $(obj)/include/generated/autoconf.h
kconfig_env := srctree=$(srctree) KCONFIG_CONFIG=$(KCONFIG_CONFIG) \
	KCONFIG_AUTOCONFIG=$(AUTOCONF) KCONFIG_AUTOHEADER=$(AUTOHEADER) \
	KCONFIG_TRISTATE=$(obj)/include/config/tristate.conf

CC := $(CROSS_COMPILE)gcc
LD := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
OBJDUMP := $(CROSS_COMPILE)objdump
HOSTCC ?= cc

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.PHONY: all help setup menuconfig olddefconfig savedefconfig defconfig \
	run run-uboot test demo demo-linux bench fuzz lint host-tests clean distclean

help:
	@echo "Configure:  make qemu_virt_defconfig | rpi4_defconfig | menuconfig |"
	@echo "            olddefconfig | savedefconfig"
	@echo "Build:      make [O=dir] [CROSS_COMPILE=prefix] [V=1]"
	@echo "            [SCENARIO=configs/<name>.scenario] (the VMs to run; none by default)"
	@echo "Run:        make run (board of the config), make run-uboot (virt via U-Boot)"
	@echo "Test:       make test (host unit tests + QEMU scenarios), make demo, make demo-linux"
	@echo "Check:      make lint (cppcheck and clang-tidy, quiet or failing),"
	@echo "            make fuzz [FUZZ_SECONDS=600] (libFuzzer on guest-input parsers)"
	@echo "Measure:    make bench (instructions to the banner and per trap round trip, -icount shift=0)"
	@echo "Set-up:     make setup (install what is missing; run by test and demo)"

setup:
	$(Q)$(srctree)/scripts/setup.sh

# ---------------------------------------------------------------- Kconfig

%_defconfig: $(srctree)/configs/%_defconfig
	$(Q)mkdir -p $(obj)/include/config $(obj)/include/generated
	$(Q)cd $(obj) && $(kconfig_env) kconfig-conf --defconfig=$< $(srctree)/Kconfig >/dev/null
	$(Q)echo "configured $(O)/.config from configs/$@"

menuconfig:
	$(Q)mkdir -p $(obj)/include/config $(obj)/include/generated
	$(Q)cd $(obj) && $(kconfig_env) kconfig-mconf $(srctree)/Kconfig

olddefconfig:
	$(Q)mkdir -p $(obj)/include/config $(obj)/include/generated
	$(Q)cd $(obj) && $(kconfig_env) kconfig-conf --olddefconfig $(srctree)/Kconfig

savedefconfig: $(KCONFIG_CONFIG)
	$(Q)cd $(obj) && $(kconfig_env) kconfig-conf --savedefconfig=$(obj)/defconfig $(srctree)/Kconfig
	$(Q)echo "minimal config written to $(O)/defconfig"

$(KCONFIG_CONFIG):
	@echo "No configuration in $(O)/. Run 'make qemu_virt_defconfig' or 'make rpi4_defconfig' first." >&2
	@exit 1

$(AUTOHEADER) $(AUTOCONF): $(KCONFIG_CONFIG) $(srctree)/Kconfig
	$(Q)mkdir -p $(obj)/include/config $(obj)/include/generated
	$(Q)cd $(obj) && $(kconfig_env) kconfig-conf --silentoldconfig $(srctree)/Kconfig </dev/null
	$(Q)touch $(AUTOHEADER) $(AUTOCONF)

# Only goals that build the image need the configuration.
config_goals := all $(obj)/hypervisor.elf $(obj)/hypervisor.bin run run-uboot
ifneq ($(filter $(config_goals),$(if $(MAKECMDGOALS),$(MAKECMDGOALS),all)),)
-include $(AUTOCONF)
endif

# ------------------------------------------------------------ the image

objs-y := boot/head.o arch/arm64/self_reloc.o boot/main.o boot/board.o boot/smp.o \
	arch/arm64/vectors.o arch/arm64/exception.o arch/arm64/cache.o \
	arch/arm64/cpu.o arch/arm64/esr.o arch/arm64/smccc.o arch/arm64/semihost.o \
	lib/string.o lib/printf.o lib/fdt.o lib/memrange.o lib/console.o lib/panic.o \
	mm/page_alloc.o mm/hyp_pool.o mm/hyp_map.o mm/stage2.o \
	drivers/pl011.o drivers/gic.o drivers/arch_timer.o drivers/psci.o
objs-y += lib/fdt_write.o virt/guest_dt.o
objs-y += arch/arm64/guest.o arch/arm64/el1_state.o arch/arm64/fpsimd.o \
	virt/vm.o virt/vcpu.o virt/exit.o virt/vpsci.o virt/vsysreg.o virt/vtimer.o \
	virt/guest_mem.o virt/vgic.o virt/vgic_v2.o virt/vgic_v3.o virt/vpl011.o \
	virt/vconsole.o
objs-y += mm/memslot.o virt/mmio_lookup.o
objs-y += mm/dirty_log.o mm/dirty_ring.o
objs-y += virt/manage.o virt/manage_window.o
objs-y += virt/virtqueue.o virt/virtio_mmio.o
objs-y += virt/vsock.o
objs-y += virt/hvdirty_codec.o virt/hvdirty_svc.o
objs-$(CONFIG_SELFTEST) += boot/selftest.o
objs-$(CONFIG_GICV2) += drivers/gicv2.o
objs-$(CONFIG_GICV3) += drivers/gicv3.o
objs-$(CONFIG_DIRTY_TEST_CHANNEL) += virt/dirtyctl.o

hv_objs := $(addprefix $(obj)/,$(objs-y))

# The scenario: the VMs the image runs, with their guest images
# (docs/scenarios.md). SCENARIO=path/to/x.scenario; empty: no VMs.
# tools/mkscenario turns it into $(obj)/scenario/{scenario.c,images.S}.
# Its dependency file is made first (make restarts after including it)
# and names every image, so that make builds those it has rules for,
# such as $(obj)/guests/<name>.bin, before they are bundled.
SCENARIO ?=
scenario_dir := $(obj)/scenario
mkscenario := $(obj)/tools/mkscenario
mkscenario_src := $(addprefix $(srctree)/tools/mkscenario/,mkscenario.c \
	scenario_parse.c scenario_write.c)
mkscenario_args := -D obj=$(obj) -D srctree=$(srctree) \
	'$(subst ','\'',$(or $(SCENARIO),-))' $(scenario_dir) $(CONFIG_MAX_CPUS)
hv_objs += $(scenario_dir)/scenario.o $(scenario_dir)/images.o

$(mkscenario): $(mkscenario_src) $(wildcard $(srctree)/tools/mkscenario/*.h) \
		$(addprefix $(srctree)/,virt/scenario.h virt/guest_map.h lib/types.h lib/compiler.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  tools/mkscenario")
	$(Q)$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -I$(srctree) $(mkscenario_src) -o $@

# mkscenario's arguments (SCENARIO, CONFIG_MAX_CPUS, ...): the file is
# rewritten, and so newer than what depends on it, only when they change.
$(scenario_dir)/mkscenario.args: FORCE
	@mkdir -p $(dir $@)
	$(Q)echo '$(subst ','\'',$(mkscenario_args))' | cmp -s - $@ || \
		echo '$(subst ','\'',$(mkscenario_args))' >$@

# Any error here is also the full run's below, which reports it: quiet.
$(scenario_dir)/mkscenario.d: $(scenario_dir)/mkscenario.args $(mkscenario) \
		$(wildcard $(SCENARIO))
	$(Q)$(mkscenario) -n -M $@ $(mkscenario_args) 2>/dev/null

$(scenario_dir)/scenario.c $(scenario_dir)/images.S &: $(scenario_dir)/mkscenario.args \
		$(mkscenario) $(wildcard $(SCENARIO))
	@$(if $(Q),echo "  GEN     scenario/scenario.c images.S ($(or $(SCENARIO),no scenario))")
	$(Q)$(mkscenario) $(mkscenario_args)

$(scenario_dir)/%.o: $(scenario_dir)/%.c $(AUTOHEADER)
	@$(if $(Q),echo "  CC      scenario/$*.o")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(scenario_dir)/%.o: $(scenario_dir)/%.S $(AUTOHEADER)
	@$(if $(Q),echo "  AS      scenario/$*.o")
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

FORCE:

# Only goals that build the image have the configuration (and need this).
ifdef CONFIG_MAX_CPUS
-include $(scenario_dir)/mkscenario.d
endif

ARCH_CFLAGS := -march=armv8-a -mgeneral-regs-only -mstrict-align \
	-mno-outline-atomics -fpie -fvisibility=hidden
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter \
	-ffreestanding -fno-builtin -fno-common -fno-stack-protector \
	-fno-omit-frame-pointer -ffunction-sections -fdata-sections \
	$(ARCH_CFLAGS) -I$(srctree) -I$(obj)/include \
	-include $(AUTOHEADER) -MMD -MP
ASFLAGS := $(CFLAGS) -D__ASSEMBLY__
LDFLAGS := -nostdlib -pie --no-dynamic-linker -z norelro -z noexecstack \
	--gc-sections -T $(srctree)/boot/hypervisor.ld

all: $(obj)/hypervisor.bin

$(obj)/%.o: $(srctree)/%.c $(AUTOHEADER)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $*.o")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(obj)/%.o: $(srctree)/%.S $(AUTOHEADER)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $*.o")
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

$(obj)/hypervisor.elf: $(hv_objs) $(srctree)/boot/hypervisor.ld
	@$(if $(Q),echo "  LD      hypervisor.elf")
	$(Q)$(LD) $(LDFLAGS) -Map=$(obj)/hypervisor.map $(hv_objs) -o $@
	$(Q)$(srctree)/scripts/check-image.sh $(OBJDUMP) $@

$(obj)/hypervisor.bin: $(obj)/hypervisor.elf
	@$(if $(Q),echo "  OBJCOPY hypervisor.bin")
	$(Q)$(OBJCOPY) -O binary $< $@
	@echo "$(O)/hypervisor.bin: $$(stat -c %s $@) bytes ($(CONFIG_BOARD_NAME))"

-include $(hv_objs:.o=.d)

# ---------------------------------------------------------------- running

run: $(obj)/hypervisor.bin
	$(srctree)/scripts/qemu.sh $(CONFIG_BOARD_NAME) $(obj)/hypervisor.bin

run-uboot: $(obj)/hypervisor.bin
	$(srctree)/scripts/qemu.sh uboot $(obj)/hypervisor.bin

# ------------------------------------------------------------------ tests

include $(srctree)/tests/host/Makefile.inc
include $(srctree)/tests/guests/guests.mk

# tools/hvdirty: the dirty-log service's command-line client for a Linux
# management VM (docs/hvdirty.md): a static aarch64 glibc program, built
# with the cross compiler but none of the hypervisor's configuration.
#   make O=dir $(abspath dir)/tools/hvdirty/hvdirty
hvdirty_src := $(addprefix $(srctree)/tools/hvdirty/,main.c cli.c cmd.c client.c \
	checkpoint.c output.c)
$(obj)/tools/hvdirty/hvdirty: $(hvdirty_src) $(wildcard $(srctree)/tools/hvdirty/*.h) \
		$(srctree)/virt/hvdirty_proto.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      tools/hvdirty/hvdirty")
	$(Q)$(CC) -std=gnu11 -static -O2 -Wall -Wextra -Werror -I$(srctree) \
		$(hvdirty_src) -o $@

include $(srctree)/tests/linux/linux.mk
include $(srctree)/tests/fuzz/Makefile.inc

test: setup
	$(Q)$(srctree)/tests/run-all.sh $(O)

demo: setup
	$(Q)$(MAKE) --no-print-directory O=$(O)/demo qemu_virt_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/demo SCENARIO=$(srctree)/configs/demo.scenario
	$(Q)$(srctree)/scripts/qemu.sh virt $(obj)/demo/hypervisor.bin

# The same with Linux: two Debian 6.1 VMs, a workload and a manager that
# runs hvdirty (watch, checkpoint); docs/linux.md.
demo-linux: setup
	$(Q)$(MAKE) --no-print-directory O=$(O)/demo-linux qemu_virt_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/demo-linux \
		SCENARIO=$(srctree)/tests/scenarios/linux-virt.scenario
	$(Q)$(srctree)/scripts/qemu.sh virt $(obj)/demo-linux/hypervisor.bin

# Static analysis of every C file (cppcheck, clang-tidy) as configured.
lint: $(AUTOHEADER)
	$(Q)$(srctree)/scripts/lint.sh $(O)

# Benchmarks are commands, not tests: figures go to docs/performance.md.
bench: setup
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-virt qemu_virt_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-virt
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-rpi4 rpi4_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-rpi4
	$(Q)$(srctree)/scripts/bench-boot.sh $(obj)/bench-virt/hypervisor.bin \
		$(obj)/bench-rpi4/hypervisor.bin
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-virt \
		SCENARIO=$(srctree)/tests/scenarios/trapbench.scenario
	$(Q)$(srctree)/scripts/bench-traps.sh $(obj)/bench-virt/hypervisor.bin
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-dirty qemu_virt_defconfig
	$(Q)kconfig-tweak --file $(obj)/bench-dirty/.config --enable DIRTY_TEST_CHANNEL
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-dirty olddefconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-dirty \
		SCENARIO=$(srctree)/tests/scenarios/dirtybench.scenario
	$(Q)$(srctree)/scripts/bench-dirty.sh $(obj)/bench-dirty/hypervisor.bin
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-vsock qemu_virt_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-vsock \
		SCENARIO=$(srctree)/tests/scenarios/hvdbench.scenario
	$(Q)$(srctree)/scripts/bench-vsock.sh $(obj)/bench-vsock/hypervisor.bin
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-linux qemu_virt_defconfig
	$(Q)$(MAKE) --no-print-directory O=$(O)/bench-linux \
		SCENARIO=$(srctree)/tests/scenarios/linuxboot.scenario
	$(Q)$(srctree)/scripts/bench-linux.sh $(obj)/bench-linux/hypervisor.bin \
		$(obj)/bench-linux/linux/initramfs.cpio.gz

clean:
	rm -rf $(obj)/boot $(obj)/arch $(obj)/lib $(obj)/mm $(obj)/drivers \
		$(obj)/virt $(obj)/host $(obj)/hypervisor.* \
		$(obj)/scenario $(obj)/tools $(obj)/guests

distclean:
	rm -rf $(obj)
