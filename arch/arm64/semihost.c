/* Semihosting SYS_EXIT_EXTENDED, the verdict channel of QEMU scenarios. */
#include "arch/arm64/semihost.h"

#include "lib/arch_hooks.h"
#include "lib/types.h"

#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

/* Set once by the boot CPU; read by whichever CPU stops the machine. */
static bool exit_enabled;

void semihost_enable_exit(void)
{
	/* Release: pairs with the acquire in semihost_exit_enabled(). */
	__atomic_store_n(&exit_enabled, true, __ATOMIC_RELEASE);
}

bool semihost_exit_enabled(void)
{
	/* Acquire: pairs with the release in semihost_enable_exit(). */
	return __atomic_load_n(&exit_enabled, __ATOMIC_ACQUIRE);
}

void semihost_exit(int status)
{
	u64 block[2] = { ADP_STOPPED_APPLICATION_EXIT, (u64)(s64)status };
	register u64 x0 __asm__("x0") = SYS_EXIT_EXTENDED;
	register u64 x1 __asm__("x1") = (u64)block;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	arch_halt();    /* not reached under QEMU */
}
