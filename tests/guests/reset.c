/*
 * reset: PSCI SYSTEM_RESET restarts the whole VM. First boot: start the
 * second vCPU, leave a marker in RAM that the image does not cover, and
 * ask for a reset. After the reset (the hypervisor reloads the images,
 * RAM outside them keeps its contents, as on a real reset): the marker
 * says this is the second boot, and the second vCPU must be off again.
 * Needs two vCPUs.
 */
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"

#define MARKER 0x7265736574617267ULL    /* "graterset": survives a reset */
#define MARKER_OFFSET 0x100000ULL       /* 1 MiB past the image's end */

const char guest_name[] = "reset";

static volatile u64 *marker(void)
{
	return (volatile u64 *)(rt_image_end() + MARKER_OFFSET);
}

static void secondary(unsigned int cpu)
{
	printf("reset: vCPU %u is on; the reset must stop it\n", cpu);
	for (;;)
		__asm__ volatile("wfi");
}

void guest_main(void)
{
	s64 r;

	if (rt_nr_cpus() < 2)
		rt_fail("needs 2 vCPUs, has %u", rt_nr_cpus());
	if (*marker() != MARKER) {
		printf("reset: first boot\n");
		r = rt_cpu_on(1, secondary);
		if (r != PSCI_SUCCESS)
			rt_fail("CPU_ON of vCPU 1: %lld", (long long)r);
		*marker() = MARKER;
		/* The marker is in memory before the reset reloads the VM
		 * (the hypervisor reads nothing; the next boot does, caches
		 * off). */
		__asm__ volatile("dc civac, %0\n\tdsb sy" : : "r"(marker()) : "memory");
		r = psci_call(PSCI_FN_SYSTEM_RESET, 0, 0, 0);
		rt_fail("SYSTEM_RESET returned %lld", (long long)r);
	}
	printf("reset: second boot, after SYSTEM_RESET\n");
	*marker() = 0;
	r = psci_affinity_info(rt_cpu_mpidr(1));
	if (r != PSCI_AFF_OFF)
		rt_fail("vCPU 1 is %lld after the reset, not OFF", (long long)r);
	rt_pass();
}
