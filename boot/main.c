/*
 * The boot CPU's path from head.S to a running machine: read the board
 * from the DTB, build the EL2 map and turn the MMU on, start the console,
 * the page allocator, the GIC and timer, the other CPUs, the self-check,
 * and print the banner.
 */
#include "arch/arm64/cache.h"
#include "arch/arm64/cpu.h"
#include "arch/arm64/irq.h"
#include "arch/arm64/semihost.h"
#include "boot/boot.h"
#include "drivers/arch_timer.h"
#include "drivers/gic.h"
#include "drivers/pl011.h"
#include "drivers/psci.h"
#include "lib/console.h"
#include "lib/arch_hooks.h"
#include "lib/fdt.h"
#include "lib/memrange.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "mm/hyp_map.h"
#include "mm/hyp_pool.h"
#include "virt/scenario.h"
#include "virt/vm_start.h"

/* Linker-script symbols bounding the image and its sections. */
extern char _start[], _etext[], _erodata[], _end[];
void mmu_enable(u64 mair, u64 tcr, u64 ttbr0, u64 sctlr);

/* Semihosting exit status of a run that was not entered at EL2. */
#define EXIT_WRONG_EL 3

struct board board;

/* Bytes from _start to _end (compared as addresses: they are distinct
 * objects to C). */
static u64 image_size(void)
{
	return (paddr_t)_end - (paddr_t)_start;
}
static char board_error[160];

#define SCTLR_EL2_MMU_ON (SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_I | \
			  SCTLR_SA | SCTLR_WXN)
#define MAX_FREE_RANGES (BOARD_MAX_MEM + BOARD_MAX_RESERVED + 2)

static void map_or_die(paddr_t pa, u64 size, enum hyp_prot prot, const char *what)
{
	if (size && hyp_map_range(pa, size, prot))
		panic("cannot map %s at 0x%llx (+0x%llx) at EL2", what,
		      (unsigned long long)pa, (unsigned long long)size);
}

static void map_image(void)
{
	map_or_die((paddr_t)_start, (paddr_t)_etext - (paddr_t)_start, HYP_TEXT,
		   "hypervisor text");
	map_or_die((paddr_t)_etext, (paddr_t)_erodata - (paddr_t)_etext, HYP_RO,
		   "hypervisor rodata");
	map_or_die((paddr_t)_erodata, (paddr_t)_end - (paddr_t)_erodata, HYP_RW,
		   "hypervisor data");
}

/* Fills @r with the image and the DTB; returns 2, the count. */
static unsigned int image_and_dtb(void *dtb, struct mem_range *r)
{
	r[0] = (struct mem_range){ (paddr_t)_start, image_size() };
	r[1] = (struct mem_range){ (paddr_t)dtb, fdt_totalsize(dtb) };
	return 2;
}

/*
 * Turns the MMU and caches on with a first map: the image and, if it looks
 * like one, the DTB, so that the board is parsed with caches on. The rest
 * is added by map_board() (adding mappings to a live map is allowed).
 */
static void mmu_setup(void *dtb, bool dtb_ok)
{
	u64 mair, tcr, ttbr;

	hyp_map_init(cpu_pa_range());
	map_image();
	if (dtb_ok)
		map_or_die((paddr_t)dtb, fdt_totalsize(dtb), HYP_RO, "device tree");
	hyp_map_regs(&mair, &tcr, &ttbr);
	/* Everything so far was written with the caches off; drop any stale
	 * line the boot loader may have left over the image before the
	 * caches start to hit. */
	dcache_inval_poc(_start, image_size());
	mmu_enable(mair, tcr, ttbr, SCTLR_EL2_MMU_ON);
}

/* RAM read-write (less the image and DTB, mapped already), and devices. */
static void map_board(const struct board *b, void *dtb)
{
	struct mem_range done[2], ram[BOARD_MAX_MEM + 2];
	int n = memrange_subtract(b->mem, b->nmem, done, image_and_dtb(dtb, done),
				  ram, ARRAY_SIZE(ram));

	if (n < 0)
		panic("cannot work out the RAM to map (%d)", n);
	for (int i = 0; i < n; i++)
		map_or_die(ram[i].base, ram[i].size, HYP_RW, "RAM");
	map_or_die(b->uart_base, b->uart_size, HYP_DEVICE, "console UART");
	map_or_die(b->gic.dist, b->gic.dist_size, HYP_DEVICE, "GIC distributor");
	map_or_die(b->gic.redist_or_cpuif, b->gic.redist_or_cpuif_size, HYP_DEVICE,
		   b->gic.version == GIC_V3 ? "GIC redistributors" : "GIC CPU interface");
}

/* True if the whitespace-separated @args contain @word exactly. */
static bool bootargs_has(const char *args, const char *word)
{
	size_t n = strlen(word);

	if (!args)
		return false;
	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ' ' || p[n] == '\0'))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/* "hv.exit=semihosting": QEMU (-semihosting) waits for our verdict as
 * its exit status. */
static bool asks_for_verdict(const char *args)
{
	return bootargs_has(args, "hv.exit=semihosting");
}

/* /chosen bootargs read straight from the DTB, for when the board as a
 * whole could not be parsed. NULL if there are none. */
static const char *raw_bootargs(void *dtb)
{
	int chosen = fdt_path_offset(dtb, "/chosen");

	return chosen < 0 ? NULL : fdt_getprop_str(dtb, chosen, "bootargs");
}

/* Stops the boot with a message on CONFIG_EARLY_UART_BASE: without a
 * usable DTB there is no other console to say it on. */
static __noreturn void early_fatal(void *dtb, bool dtb_ok, const char *why)
{
	if (dtb_ok && asks_for_verdict(raw_bootargs(dtb)))
		semihost_enable_exit();
	map_or_die(CONFIG_EARLY_UART_BASE, 4096, HYP_DEVICE, "early UART");
	pl011_init(CONFIG_EARLY_UART_BASE);
	console_set_sink(pl011_putc);
	panic("device tree at %p: %s", dtb, why);
}

/* Free RAM: memory less reservations, the image and the DTB. */
static void page_alloc_setup(const struct board *b, void *dtb)
{
	struct mem_range reserved[BOARD_MAX_RESERVED + 2];
	struct mem_range free_ram[MAX_FREE_RANGES];
	unsigned int nres = b->nreserved;
	int n;

	memcpy(reserved, b->reserved, nres * sizeof(reserved[0]));
	nres += image_and_dtb(dtb, &reserved[nres]);
	n = memrange_subtract(b->mem, b->nmem, reserved, nres, free_ram,
			      ARRAY_SIZE(free_ram));
	if (n < 0)
		panic("cannot compute free RAM (%d)", n);
	page_pool_init(&hyp_pool);
	for (int i = 0; i < n; i++) {
		int r = page_pool_add_ram(&hyp_pool, free_ram[i].base, free_ram[i].size);

		if (r)
			printf("hv: RAM 0x%llx+0x%llx not usable (%d)\n",
			       (unsigned long long)free_ram[i].base,
			       (unsigned long long)free_ram[i].size, r);
	}
}

/* The board from the DTB, mapped, with the console on; or a message. */
static void board_setup(void *dtb)
{
	bool dtb_ok = fdt_check(dtb, FDT_SIZE_UNKNOWN) == 0;

	mmu_setup(dtb, dtb_ok);
	if (!dtb_ok)
		early_fatal(dtb, dtb_ok, "no valid device tree header (is x0 the DTB?)");
	if (board_from_fdt(dtb, &board, board_error, sizeof(board_error)))
		early_fatal(dtb, dtb_ok, board_error);
	if (!board.uart_base)
		early_fatal(dtb, dtb_ok, "no console: neither stdout-path nor an enabled PL011");
	if (!board.uart_is_pl011)
		early_fatal(dtb, dtb_ok, "the console UART is not a PL011 (arm,pl011)");
	map_board(&board, dtb);
	pl011_init(board.uart_base);
	console_set_sink(pl011_putc);
}

static const char *hafdbs_name(unsigned int h)
{
	return h >= HAFDBS_AF_DBM ? "yes" : h == HAFDBS_AF ? "no (AF only)" : "no";
}

static u64 ram_total(const struct board *b)
{
	u64 sum = 0;

	for (unsigned int i = 0; i < b->nmem; i++)
		sum += b->mem[i].size;
	return sum;
}

static void print_banner(const struct board *b, unsigned int online)
{
	printf("hv: %s | EL2 | %u/%u CPUs online | RAM %llu MiB | GICv%d | "
	       "FEAT_HAFDBS: %s\n", b->model, online, b->ncpus,
	       (unsigned long long)(ram_total(b) >> 20), b->gic.version,
	       hafdbs_name(cpu_hafdbs()));
}

__noreturn void boot_finish(bool verdict)
{
	if (semihost_exit_enabled()) {
		printf("hv: verdict: %s\n", verdict ? "PASS" : "FAIL");
		semihost_exit(verdict ? 0 : 1);
	}
	printf("hv: nothing left to run; %s\n",
	       psci_available() ? "powering off" : "halting");
	psci_system_off();
	arch_halt();
}

void boot_primary(void *dtb, unsigned long entered_el, u64 entry_count)
{
	bool ok = true;
	unsigned int online;

	cpus[0].mpidr = cpu_read_mpidr();
	cpu_set_current(&cpus[0]);
	board_setup(dtb);
	if (asks_for_verdict(board.bootargs))
		semihost_enable_exit();
	printf("\nhv: booting at EL2%s; image 0x%llx-0x%llx, DTB 0x%llx\n",
	       entered_el == 3 ? " (entered at EL3)" : "",
	       (unsigned long long)(paddr_t)_start, (unsigned long long)(paddr_t)_end,
	       (unsigned long long)(paddr_t)dtb);
	if (board.uart_not_stdout)
		printf("hv: /chosen stdout-path names a UART without a driver here; "
		       "console on the PL011 at 0x%llx\n",
		       (unsigned long long)board.uart_base);

	page_alloc_setup(&board, dtb);
	timer_init(board.timer.freq_hz);
	psci_init(board.psci);
	if (gic_init(&board.gic) || gic_init_cpu(0))
		panic("interrupt controller %s did not initialise", gic_name());
	if (selftest_init(&board))
		panic("self-check could not install its interrupt handlers");
	cpu_mark_online(&cpus[0]);
	irq_enable();
	online = smp_boot_secondaries(&board);
	print_banner(&board, online);
	if (bootargs_has(board.bootargs, "hv.selftest=fault"))
		selftest_fault();
	/* From our first instruction: what runs before it (firmware, QEMU
	 * start-up) is not ours to count. Under -icount shift=0 1 ns is
	 * one instruction. */
	printf("hv: banner %llu ns after entry\n",
	       (unsigned long long)((timer_now() - entry_count) * 1000000000 / timer_freq()));
	printf("hv: %llu MiB free for VMs, timer %llu Hz, %s, EL2 map uses %u table pages\n",
	       (unsigned long long)(page_pool_free_pages(&hyp_pool) >> 8),
	       (unsigned long long)timer_freq(), gic_name(), hyp_map_tables_used());
	if (online != board.ncpus && online != CONFIG_MAX_CPUS)
		ok = false;
	ok = selftest_run() && ok;
	if (!ok || !scenario.nr_vms)
		boot_finish(ok);
	if (vm_start_scenario(&board))
		boot_finish(false);
	vm_cpu_main();
}

/* Entered at EL1 (the loader did not give us EL2): say so and stop. */
void boot_wrong_el(void *dtb, unsigned long el)
{
	int r = board_from_fdt(dtb, &board, board_error, sizeof(board_error));

	/* MMU off at EL1 here: the UART is reached untranslated. */
	pl011_init(r == 0 ? board.uart_base : CONFIG_EARLY_UART_BASE);
	console_set_sink(pl011_putc);
	console_enter_panic();    /* no atomics on Device memory */
	printf("\nhv: entered at EL%lu, but the hypervisor needs EL2.\n"
	       "hv: boot it with QEMU -M virt,virtualization=on, from U-Boot "
	       "at EL2, or from the Pi firmware (arm_64bit=1).\n", el);
	if (r == 0 && asks_for_verdict(board.bootargs))
		semihost_exit(EXIT_WRONG_EL);
	arch_halt();
}
