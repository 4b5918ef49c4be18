/*
 * attacker: tries one thing a VM must not get away with, chosen by
 * bootargs `attack=ADDR` (default 0x48000000) and `mode=`:
 *   read, write  an 8-byte access at ADDR (outside this VM's RAM: the
 *                hypervisor's memory, another VM's, or nothing)
 *   exec         a branch to ADDR
 *   undef        an undefined instruction (UDF)
 *   impdef       a read of an implementation-defined system register
 *                (S3_0_C15_C0_0), which HCR_EL2.TIDCP traps to EL2
 *   smc          an SMC asking the firmware for PSCI SYSTEM_RESET
 * It says what it is about to do and does it. The hypervisor must stop
 * it there: if the guest carries on, it prints
 * "attacker: FAIL: access to ADDR succeeded" (or "undef succeeded",
 * "smc succeeded"). If instead the guest takes
 * an exception for it (an abort or UNDEF, as plain QEMU gives for an
 * address with nothing behind it), the attempt was refused: PASS.
 */
#include "arch/arm64/esr.h"
#include "lib/compiler.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"

#define DEFAULT_TARGET 0x48000000ULL

const char guest_name[] = "attacker";

enum mode { MODE_READ, MODE_WRITE, MODE_EXEC, MODE_UNDEF, MODE_IMPDEF, MODE_SMC };

static const char *const mode_names[] = {
	[MODE_READ] = "read", [MODE_WRITE] = "write", [MODE_EXEC] = "exec",
	[MODE_UNDEF] = "undef", [MODE_IMPDEF] = "impdef", [MODE_SMC] = "smc",
};

/* Set just before the attempt: an exception now is its refusal. */
static bool attacking;

static bool refused(struct trap_frame *f, unsigned int kind)
{
	char what[128];

	if (!READ_ONCE(attacking))
		return false;
	if ((kind & 3) == VEC_SERROR)
		snprintf(what, sizeof(what), "SError, ESR 0x%llx",
			 (unsigned long long)f->esr);
	else
		esr_describe(f->esr, f->far, what, sizeof(what));
	printf("attacker: refused with an exception in the guest: %s\n", what);
	rt_pass();
}

static enum mode parse_mode(void)
{
	const char *v;
	size_t len;

	if (rt_arg("mode", &v, &len))
		return MODE_READ;
	for (unsigned int m = 0; m < ARRAY_SIZE(mode_names); m++)
		if (strlen(mode_names[m]) == len && !strncmp(v, mode_names[m], len))
			return (enum mode)m;
	rt_fail("bootargs: mode=%.*s is not read, write, exec, undef, impdef or smc",
		(int)len, v);
}

static u64 parse_target(enum mode mode)
{
	u64 addr = DEFAULT_TARGET;
	int r = rt_arg_u64("attack", &addr);

	if (r == -EINVAL)
		rt_fail("bootargs: attack= is not a number");
	if (mode > MODE_EXEC)
		return addr;
	if (addr >> RT_VA_BITS)
		rt_fail("attack=0x%llx is beyond the guest's %u-bit map",
			(unsigned long long)addr, RT_VA_BITS);
	if (!IS_ALIGNED(addr, 8))
		rt_fail("attack=0x%llx is not 8-byte aligned", (unsigned long long)addr);
	if (mode == MODE_EXEC && addr < RT_DEVICE_END)
		rt_fail("attack=0x%llx: the guest maps that GiB execute-never",
			(unsigned long long)addr);
	for (unsigned int i = 0; i < rt_board.nmem; i++)
		if (addr - rt_board.mem[i].base < rt_board.mem[i].size)
			printf("attacker: note: 0x%llx is inside this VM's own RAM\n",
			       (unsigned long long)addr);
	return addr;
}

void guest_main(void)
{
	enum mode mode = parse_mode();
	u64 addr = parse_target(mode);
	u64 value = 0;

	rt_set_exception_hook(refused);
	switch (mode) {
	case MODE_READ:
		printf("attacker: about to read 8 bytes at 0x%llx\n", (unsigned long long)addr);
		WRITE_ONCE(attacking, true);
		__asm__ volatile("ldr %0, [%1]" : "=r"(value) : "r"(addr) : "memory");
		break;
	case MODE_WRITE:
		printf("attacker: about to write 8 bytes at 0x%llx\n", (unsigned long long)addr);
		WRITE_ONCE(attacking, true);
		/* The DSB waits for the write to complete, so that an abort
		 * it raises is taken here. */
		__asm__ volatile("str %0, [%1]\n\tdsb sy" : : "r"(0x5a5a5a5aa5a5a5a5ULL),
				 "r"(addr) : "memory");
		break;
	case MODE_EXEC:
		printf("attacker: about to branch to 0x%llx\n", (unsigned long long)addr);
		WRITE_ONCE(attacking, true);
		((void (*)(void))addr)();
		break;
	case MODE_UNDEF:
		printf("attacker: about to execute an undefined instruction (UDF)\n");
		WRITE_ONCE(attacking, true);
		__asm__ volatile("udf #0" ::: "memory");
		break;
	case MODE_IMPDEF:
		printf("attacker: about to read implementation-defined register S3_0_C15_C0_0\n");
		WRITE_ONCE(attacking, true);
		__asm__ volatile("mrs %0, s3_0_c15_c0_0" : "=r"(value) : : "memory");
		break;
	case MODE_SMC:
		printf("attacker: about to call the firmware with SMC: PSCI SYSTEM_RESET\n");
		WRITE_ONCE(attacking, true);
		value = smccc_smc(PSCI_FN_SYSTEM_RESET, 0, 0, 0);
		break;
	}
	WRITE_ONCE(attacking, false);
	printf("attacker: the %s went through (x0 = 0x%llx)\n", mode_names[mode],
	       (unsigned long long)value);
	if (mode > MODE_EXEC)
		rt_fail("%s succeeded", mode_names[mode]);
	rt_fail("access to 0x%llx succeeded", (unsigned long long)addr);
}
