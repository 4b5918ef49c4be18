/*
 * smp: every vCPU of the DTB comes up with PSCI CPU_ON, the vCPUs trade
 * SGIs all-to-all for a number of rounds and count exactly what arrived,
 * then the secondaries CPU_OFF and come back once more with a second
 * CPU_ON. Checks AFFINITY_INFO and the ALREADY_ON answer on the way.
 */
#include "arch/arm64/irq.h"
#include "lib/compiler.h"
#include "lib/spinlock.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/psci.h"
#include "tests/guests/rt/rt.h"
#include "tests/guests/rt/timer.h"

#define ROUNDS 50u
#define WAIT_MS 5000                 /* for anything another vCPU does */

const char guest_name[] = "smp";

/*
 * SGI n comes from vCPU n (GICv3 does not say who sent an SGI, so the
 * INTID does). A sender waits until its previous SGI to a target was
 * counted before it sends the next, so no two are ever pending at once
 * (they would merge into one).
 *
 * received[t][s]: SGIs from s taken by t; written only by t's handler,
 * with release (pairs with the acquire in the sender's wait and in the
 * boot vCPU's final count).
 */
static u32 received[RT_MAX_CPUS][RT_MAX_CPUS];
/* SGIs a vCPU took that it must not have: from itself, from no vCPU, or
 * (GICv2) whose INTID and reported sender disagree. Same writer rule. */
static u32 unexpected[RT_MAX_CPUS];
static u32 wrong_source[RT_MAX_CPUS];

/* Phases, each a counter or flag with release on the writer's side and
 * acquire on the reader's (wait_for()). */
static u32 online;       /* secondaries with interrupts on, first life */
static u32 go;           /* boot vCPU: start sending */
static u32 finished;     /* vCPUs done sending */
static u32 may_stop;     /* boot vCPU: secondaries may CPU_OFF */
static u32 second_life;  /* secondaries that ran their second life */

static void wait_for(const u32 *v, u32 want, const char *what)
{
	u64 deadline = rt_deadline_ms(WAIT_MS);

	/* Acquire: pairs with the release in bump() (or the boot vCPU's
	 * flag stores), so what was written before is visible after. */
	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want) {
		if (rt_past(deadline))
			rt_fail("vCPU %u: timed out waiting for %s (%u of %u)",
				rt_cpu_index(), what, __atomic_load_n(v, __ATOMIC_RELAXED),
				want);
		cpu_relax();
	}
}

static void bump(u32 *v)
{
	/* Release: pairs with the acquire in wait_for() and check_counts(). */
	__atomic_fetch_add(v, 1, __ATOMIC_RELEASE);
}

static void sgi_handler(u32 intid, int source)
{
	unsigned int me = rt_cpu_index();

	if (intid >= rt_nr_cpus() || intid == me) {
		bump(&unexpected[me]);
		return;
	}
	if (source >= 0 && (u32)source != intid)
		bump(&wrong_source[me]);
	bump(&received[me][intid]);
}

/* Take SGIs from every other vCPU (the handler is installed once, by
 * the boot vCPU, before any other starts). */
static void enable_sgis(void)
{
	for (u32 s = 0; s < rt_nr_cpus(); s++)
		gic_enable_private(s, GIC_PRIO_DEFAULT);
	irq_enable();
}

/* ROUNDS SGIs to every other vCPU, each counted before the next. */
static void exchange(unsigned int me)
{
	for (u32 round = 1; round <= ROUNDS; round++)
		for (unsigned int t = 0; t < rt_nr_cpus(); t++) {
			if (t == me)
				continue;
			gic_send_sgi(me, t);
			wait_for(&received[t][me], round, "an SGI to be counted");
		}
}

static void secondary_first_life(unsigned int me)
{
	enable_sgis();
	bump(&online);
	wait_for(&go, 1, "the go");
	exchange(me);
	bump(&finished);
	wait_for(&may_stop, 1, "leave to stop");
	irq_disable();
}

/* Back after CPU_OFF: one more SGI to the boot vCPU, then off again. */
static void secondary_second_life(unsigned int me)
{
	gic_send_sgi(me, 0);
	bump(&second_life);
}

static s64 affinity(unsigned int cpu)
{
	return psci_affinity_info(rt_cpu_mpidr(cpu));
}

static void wait_affinity(unsigned int cpu, s64 want, const char *name)
{
	u64 deadline = rt_deadline_ms(WAIT_MS);
	s64 r;

	while ((r = affinity(cpu)) != want)
		if (rt_past(deadline))
			rt_fail("AFFINITY_INFO of vCPU %u is %lld, never %s",
				cpu, (long long)r, name);
}

static void cpu_on(unsigned int cpu, rt_cpu_fn fn, s64 want, const char *name)
{
	s64 r = rt_cpu_on(cpu, fn);

	if (r != want)
		rt_fail("CPU_ON of vCPU %u (MPIDR 0x%llx) = %lld, expected %s",
			cpu, (unsigned long long)rt_cpu_mpidr(cpu), (long long)r, name);
}

static void bring_up(unsigned int cpu)
{
	s64 r = affinity(cpu);

	if (r != PSCI_AFF_OFF)
		rt_fail("AFFINITY_INFO of vCPU %u before CPU_ON = %lld, expected OFF",
			cpu, (long long)r);
	cpu_on(cpu, secondary_first_life, PSCI_SUCCESS, "SUCCESS");
	wait_affinity(cpu, PSCI_AFF_ON, "ON");
	cpu_on(cpu, secondary_first_life, PSCI_ALREADY_ON, "ALREADY_ON");
	wait_for(&online, cpu, "the vCPU to come online");
	printf("smp: vCPU %u (MPIDR 0x%llx) is on\n", cpu,
	       (unsigned long long)rt_cpu_mpidr(cpu));
}

/* After everyone finished: exactly ROUNDS from each other vCPU, and
 * @extra more at the boot vCPU from each secondary. */
static void check_counts(u32 extra)
{
	unsigned int n = rt_nr_cpus();

	for (unsigned int t = 0; t < n; t++) {
		u32 bad = READ_ONCE(unexpected[t]), wrong = READ_ONCE(wrong_source[t]);

		if (bad || wrong)
			rt_fail("vCPU %u took %u SGI(s) from itself or nobody and "
				"%u with the wrong sender", t, bad, wrong);
		for (unsigned int s = 0; s < n; s++) {
			u32 got = __atomic_load_n(&received[t][s], __ATOMIC_ACQUIRE);
			u32 sent = ROUNDS + (t == 0 ? extra : 0);

			if (s != t && got != sent)
				rt_fail("vCPU %u took %u SGI(s) from vCPU %u, %u were sent",
					t, got, s, sent);
		}
	}
}

void guest_main(void)
{
	unsigned int n = rt_nr_cpus();

	if (n < 2)
		rt_fail("the DTB lists 1 CPU: nothing to test");
	for (u32 s = 0; s < n; s++)
		rt_irq_set_handler(s, sgi_handler);
	enable_sgis();
	for (unsigned int cpu = 1; cpu < n; cpu++)
		bring_up(cpu);

	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);    /* pairs with wait_for() */
	exchange(0);
	bump(&finished);
	wait_for(&finished, n, "every vCPU to finish sending");
	check_counts(0);
	printf("smp: %u vCPUs x %u others x %u rounds: every SGI arrived once\n",
	       n, n - 1, ROUNDS);

	__atomic_store_n(&may_stop, 1, __ATOMIC_RELEASE);    /* pairs with wait_for() */
	for (unsigned int cpu = 1; cpu < n; cpu++)
		wait_affinity(cpu, PSCI_AFF_OFF, "OFF after CPU_OFF");
	printf("smp: every secondary is OFF\n");

	for (unsigned int cpu = 1; cpu < n; cpu++) {
		cpu_on(cpu, secondary_second_life, PSCI_SUCCESS, "SUCCESS (second time)");
		wait_for(&received[0][cpu], ROUNDS + 1, "the second life's SGI");
		wait_affinity(cpu, PSCI_AFF_OFF, "OFF after its second life");
	}
	wait_for(&second_life, n - 1, "every second life");
	check_counts(1);
	printf("smp: every secondary came back with a second CPU_ON and left again\n");
}
