/*
 * trapbench: the cost of a guest's round trips through the hypervisor,
 * for `make bench`. Under QEMU `-icount shift=0` with `-cpu max` the
 * counter runs at 1 GHz and one instruction takes 1 ns, so counter ticks
 * are instructions (all of them: guest and hypervisor). Each kind of trap
 * runs ITERATIONS times between two counter reads; the same loop without
 * the trapping instruction is subtracted, leaving the round trip alone.
 * It prints one line per kind, "trapbench: <kind>: <N> instructions per
 * round trip", then its verdict (FAIL only if the counter is not 1 GHz,
 * i.e. the figures would not be instructions).
 */
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"
#include "virt/guest_map.h"

#define ITERATIONS 4096u
#define ICOUNT_FREQ 1000000000u      /* -icount shift=0, CNTFRQ of -cpu max */
#define SMCCC_UNKNOWN_FN 0x86000000u /* vendor hypervisor service 0: unused */
#define UART_ILPR 0x20               /* PL011 IrDA register: a harmless write */

const char guest_name[] = "trapbench";

static inline u64 counter(void)
{
	u64 c;

	/* The ISB keeps the read from moving across the measured loop. */
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(c) : : "memory");
	return c;
}

/* Each loop body: one trapping instruction, or none (the baseline). */
static u64 loop_empty(void)
{
	u64 t0 = counter();

	for (unsigned int i = 0; i < ITERATIONS; i++)
		__asm__ volatile("" : : : "memory");
	return counter() - t0;
}

static u64 loop_hvc_noop(void)
{
	u64 t0 = counter();

	for (unsigned int i = 0; i < ITERATIONS; i++) {
		register u64 x0 __asm__("x0") = SMCCC_UNKNOWN_FN;

		__asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	}
	return counter() - t0;
}

static u64 loop_psci_version(void)
{
	u64 t0 = counter();

	for (unsigned int i = 0; i < ITERATIONS; i++) {
		register u64 x0 __asm__("x0") = PSCI_FN_VERSION;

		__asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	}
	return counter() - t0;
}

static u64 loop_id_register(void)
{
	u64 t0 = counter(), v;

	for (unsigned int i = 0; i < ITERATIONS; i++)
		__asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(v) : : "memory");
	return counter() - t0;
}

static u64 loop_mmio_write(void)
{
	volatile u32 *ilpr = (volatile u32 *)(GUEST_UART_BASE + UART_ILPR);
	u64 t0 = counter();

	for (unsigned int i = 0; i < ITERATIONS; i++)
		*ilpr = 0;
	return counter() - t0;
}

/* A console write: one character to the PL011's data register. Lines
 * of 63 dots keep the output short and let the console mux print. */
static u64 loop_console_write(void)
{
	volatile u32 *dr = (volatile u32 *)GUEST_UART_BASE;
	u64 t0 = counter();

	for (unsigned int i = 0; i < ITERATIONS; i++)
		*dr = (i % 64) == 63 ? '\n' : '.';
	return counter() - t0;
}

static void report(const char *kind, u64 ticks, u64 empty)
{
	printf("trapbench: %s: %llu instructions per round trip\n", kind,
	       (unsigned long long)((ticks - empty) / ITERATIONS));
}

void guest_main(void)
{
	u64 empty;

	if (rt_counter_freq() != ICOUNT_FREQ)
		rt_fail("counter at %llu Hz: run with -cpu max -icount shift=0",
			(unsigned long long)rt_counter_freq());
	empty = loop_empty();
	report("no-op HVC", loop_hvc_noop(), empty);
	report("PSCI_VERSION", loop_psci_version(), empty);
	report("ID register read", loop_id_register(), empty);
	report("device register write", loop_mmio_write(), empty);
	report("console write", loop_console_write(), empty);
	rt_pass();
}
