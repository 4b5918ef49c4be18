/*
 * hello: the first guest of every scenario. Greets with what it was given
 * (MPIDR, memory, bootargs), checks the PSCI the hypervisor offers, then
 * makes ~1000 traps with FP/SIMD and EL1 system registers full of patterns
 * and checks that the world switches preserved them.
 */
#include "arch/arm64/sysreg.h"
#include "lib/compiler.h"
#include "lib/fdt.h"
#include "tests/guests/hello_fpsimd.h"
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"
#include "virt/guest_map.h"

#define TRAP_ITERATIONS 1024u
#define PSCI_MIN_VERSION 0x10000     /* 1.0: PSCI_FEATURES exists */
#define PSCI_UNKNOWN_FN 0x8400001fu  /* in PSCI's range, never assigned */

const char guest_name[] = "hello";

static const struct {
	u32 fn;
	const char *name;
} psci_functions[] = {
	{ PSCI_FN_VERSION, "PSCI_VERSION" },
	{ PSCI_FN_CPU_OFF, "CPU_OFF" },
	{ PSCI_FN_CPU_ON, "CPU_ON" },
	{ PSCI_FN_AFFINITY_INFO, "AFFINITY_INFO" },
	{ PSCI_FN_MIGRATE_INFO_TYPE, "MIGRATE_INFO_TYPE" },
	{ PSCI_FN_SYSTEM_OFF, "SYSTEM_OFF" },
	{ PSCI_FN_SYSTEM_RESET, "SYSTEM_RESET" },
	{ PSCI_FN_FEATURES, "PSCI_FEATURES" },
};

/* EL1 state a world switch must keep; set to patterns where writable. */
struct el1_regs {
	u64 tpidr_el1, contextidr_el1, vbar_el1, sctlr_el1, tpidr_el0, tpidrro_el0;
};

static void greet(void)
{
	u64 total = 0;

	for (unsigned int i = 0; i < rt_board.nmem; i++)
		total += rt_board.mem[i].size;
	printf("hello: hello from MPIDR 0x%llx, %llu MiB of RAM at 0x%llx, "
	       "DTB at %p (%u bytes), bootargs \"%s\"\n",
	       (unsigned long long)read_sysreg(mpidr_el1),
	       (unsigned long long)(total >> 20),
	       (unsigned long long)rt_board.mem[0].base, rt_dtb,
	       fdt_totalsize(rt_dtb), rt_board.bootargs ? rt_board.bootargs : "");
}

/* Returns the version, for the trap loop to expect. */
static s64 check_psci(void)
{
	s64 version = psci_version();
	s64 r;

	printf("hello: PSCI version %u.%u\n", PSCI_MAJOR(version), PSCI_MINOR(version));
	if (version < PSCI_MIN_VERSION)
		rt_fail("PSCI version 0x%llx, need 1.0 or later",
			(unsigned long long)version);
	for (unsigned int i = 0; i < ARRAY_SIZE(psci_functions); i++) {
		r = psci_features(psci_functions[i].fn);
		printf("hello: PSCI_FEATURES(%s) = %lld\n", psci_functions[i].name,
		       (long long)r);
		if (r < 0)
			rt_fail("PSCI_FEATURES(%s) = %lld: not supported",
				psci_functions[i].name, (long long)r);
	}
	r = psci_features(PSCI_UNKNOWN_FN);
	if (r != PSCI_NOT_SUPPORTED)
		rt_fail("PSCI_FEATURES(0x%x) = %lld, expected NOT_SUPPORTED",
			PSCI_UNKNOWN_FN, (long long)r);
	r = psci_migrate_info_type();
	printf("hello: MIGRATE_INFO_TYPE = %lld\n", (long long)r);
	if (r != PSCI_MIGRATE_NOT_REQUIRED)
		rt_fail("MIGRATE_INFO_TYPE = %lld, expected %d (no migration needed)",
			(long long)r, PSCI_MIGRATE_NOT_REQUIRED);
	return version;
}

static void read_el1_regs(struct el1_regs *r)
{
	r->tpidr_el1 = read_sysreg(tpidr_el1);
	r->contextidr_el1 = read_sysreg(contextidr_el1);
	r->vbar_el1 = read_sysreg(vbar_el1);
	r->sctlr_el1 = read_sysreg(sctlr_el1);
	r->tpidr_el0 = read_sysreg(tpidr_el0);
	r->tpidrro_el0 = read_sysreg(tpidrro_el0);
}

static void check_el1_reg(const char *name, u64 before, u64 after)
{
	if (before != after)
		rt_fail("%s changed across traps: 0x%llx -> 0x%llx", name,
			(unsigned long long)before, (unsigned long long)after);
}

static void check_traps(s64 version)
{
	struct el1_regs before, after;
	u64 r;

	/* Thread IDs are free for us; CONTEXTIDR_EL1.PROCID has 32 bits. */
	write_sysreg(tpidr_el1, 0x7470696472656c31ULL);
	write_sysreg(contextidr_el1, 0x5a5ac3c3);
	write_sysreg(tpidr_el0, 0x0123456789abcdefULL);
	write_sysreg(tpidrro_el0, 0xfedcba9876543210ULL);
	read_el1_regs(&before);
	printf("hello: %u PSCI VERSION calls and console writes with "
	       "FP/SIMD and EL1 registers set:\n", TRAP_ITERATIONS);
	r = hello_fpsimd_traps(TRAP_ITERATIONS, (u64)version, GUEST_UART_BASE);
	read_el1_regs(&after);
	switch (r & ~FPSIMD_REG_MASK) {
	case 0:
		break;
	case FPSIMD_BAD_V:
		rt_fail("v%llu changed across traps",
			(unsigned long long)(r & FPSIMD_REG_MASK));
	case FPSIMD_BAD_FPCR:
		rt_fail("FPCR changed across traps");
	case FPSIMD_BAD_FPSR:
		rt_fail("FPSR changed across traps");
	default:
		rt_fail("PSCI VERSION changed its answer during the loop");
	}
	check_el1_reg("TPIDR_EL1", before.tpidr_el1, after.tpidr_el1);
	check_el1_reg("CONTEXTIDR_EL1", before.contextidr_el1, after.contextidr_el1);
	check_el1_reg("VBAR_EL1", before.vbar_el1, after.vbar_el1);
	check_el1_reg("SCTLR_EL1", before.sctlr_el1, after.sctlr_el1);
	check_el1_reg("TPIDR_EL0", before.tpidr_el0, after.tpidr_el0);
	check_el1_reg("TPIDRRO_EL0", before.tpidrro_el0, after.tpidrro_el0);
	printf("hello: v0-v31, FPCR, FPSR and TPIDR_EL1, CONTEXTIDR_EL1, VBAR_EL1, "
	       "SCTLR_EL1, TPIDR_EL0, TPIDRRO_EL0 survived %u traps\n",
	       TRAP_ITERATIONS);
}

void guest_main(void)
{
	greet();
	check_traps(check_psci());
}
