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

/* Linker-script symbols bounding the image and its sections. */
extern char _start[], _etext[], _erodata[], _end[];
void mmu_enable(u64 mair, u64 tcr, u64 ttbr0, u64 sctlr);

/* Semihosting exit status of a run that was not entered at EL2. */
#define EXIT_WRONG_EL 3

struct board board;
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

/* RAM read-write, except the image, which gets text/rodata/data maps. */
static void map_ram(const struct board *b)
{
	paddr_t img = (paddr_t)_start, img_end = (paddr_t)_end;

	map_or_die(img, (paddr_t)_etext - img, HYP_TEXT, "hypervisor text");
	map_or_die((paddr_t)_etext, (paddr_t)_erodata - (paddr_t)_etext, HYP_RO,
		   "hypervisor rodata");
	map_or_die((paddr_t)_erodata, img_end - (paddr_t)_erodata, HYP_RW,
		   "hypervisor data");
	for (unsigned int i = 0; i < b->nmem; i++) {
		paddr_t lo = b->mem[i].base, hi = lo + b->mem[i].size;

		if (img >= lo && img_end <= hi) {
			map_or_die(lo, img - lo, HYP_RW, "RAM below the image");
			map_or_die(img_end, hi - img_end, HYP_RW, "RAM above the image");
		} else {
			map_or_die(lo, hi - lo, HYP_RW, "RAM");
		}
	}
}

static void map_devices(const struct board *b)
{
	map_or_die(b->uart_base, b->uart_size, HYP_DEVICE, "console UART");
	map_or_die(b->gic.dist, b->gic.dist_size, HYP_DEVICE, "GIC distributor");
	map_or_die(b->gic.redist_or_cpuif, b->gic.redist_or_cpuif_size, HYP_DEVICE,
		   b->gic.version == GIC_V3 ? "GIC redistributors" : "GIC CPU interface");
}

static bool dtb_in_ram(const struct board *b, paddr_t dtb, u64 size)
{
	for (unsigned int i = 0; i < b->nmem; i++)
		if (dtb >= b->mem[i].base &&
		    dtb + size <= b->mem[i].base + b->mem[i].size)
			return true;
	return false;
}

/*
 * Builds the EL2 map and turns the MMU on. Without a usable board only
 * the image and CONFIG_EARLY_UART_BASE are mapped, enough to say why.
 */
static void mmu_setup(const struct board *b, bool board_ok, void *dtb)
{
	u64 mair, tcr, ttbr;

	hyp_map_init(cpu_pa_bits());
	if (board_ok) {
		u32 dtb_size = fdt_totalsize(dtb);

		map_ram(b);
		if (!dtb_in_ram(b, (paddr_t)dtb, dtb_size))
			map_or_die((paddr_t)dtb, dtb_size, HYP_RO, "device tree");
		map_devices(b);
	} else {
		map_or_die((paddr_t)_start, (paddr_t)_end - (paddr_t)_start, HYP_RW,
			   "hypervisor image");
		map_or_die(CONFIG_EARLY_UART_BASE, 4096, HYP_DEVICE, "early UART");
	}
	hyp_map_regs(&mair, &tcr, &ttbr);
	/* Everything so far was written with the caches off; drop any stale
	 * line the boot loader may have left over the image before the
	 * caches start to hit. */
	dcache_inval_poc(_start, (size_t)(_end - _start));
	mmu_enable(mair, tcr, ttbr, SCTLR_EL2_MMU_ON);
}

/* Free RAM: memory less reservations, the image and the DTB. */
static void page_alloc_setup(const struct board *b, void *dtb)
{
	struct mem_range reserved[BOARD_MAX_RESERVED + 2];
	struct mem_range free_ram[MAX_FREE_RANGES];
	unsigned int nres = b->nreserved;
	int n;

	memcpy(reserved, b->reserved, nres * sizeof(reserved[0]));
	reserved[nres++] = (struct mem_range){ (paddr_t)_start, (u64)(_end - _start) };
	reserved[nres++] = (struct mem_range){ (paddr_t)dtb, fdt_totalsize(dtb) };
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

/* True if the whitespace-separated @args contain @word exactly. */
static bool bootargs_has(const char *args, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = args; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ' ' || p[n] == '\0'))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
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

/* Nothing runs on the hypervisor yet: report and stop the machine. */
static __noreturn void finish(bool verdict)
{
	if (bootargs_has(board.bootargs, "hv.exit=semihosting")) {
		printf("hv: verdict: %s\n", verdict ? "PASS" : "FAIL");
		semihost_exit(verdict ? 0 : 1);
	}
	printf("hv: no VMs to run yet; %s\n",
	       psci_available() ? "powering off" : "halting");
	psci_system_off();
	arch_halt();
}

void boot_primary(void *dtb, unsigned long entered_el)
{
	int r;
	bool ok = true;
	unsigned int online;

	cpus[0].mpidr = cpu_read_mpidr();
	cpu_set_current(&cpus[0]);
	r = board_from_fdt(dtb, &board, board_error, sizeof(board_error));
	mmu_setup(&board, r == 0, dtb);
	pl011_init(r == 0 ? board.uart_base : CONFIG_EARLY_UART_BASE);
	console_set_sink(pl011_putc);
	if (r)
		panic("device tree at %p: %s", dtb, board_error);
	if (bootargs_has(board.bootargs, "hv.exit=semihosting"))
		cpu_halt_via_semihosting();
	printf("\nhv: booting at EL2%s; image 0x%llx-0x%llx, DTB 0x%llx\n",
	       entered_el == 3 ? " (entered at EL3)" : "",
	       (unsigned long long)(paddr_t)_start, (unsigned long long)(paddr_t)_end,
	       (unsigned long long)(paddr_t)dtb);

	page_alloc_setup(&board, dtb);
	timer_init(board.timer.freq_hz);
	psci_init(board.psci);
	if (gic_init(&board.gic) || gic_init_cpu(0))
		panic("interrupt controller %s did not initialise", gic_name());
#ifdef CONFIG_SELFTEST
	if (selftest_init(&board))
		panic("self-check could not install its interrupt handlers");
#endif
	cpus[0].online = true;
	irq_enable();
	online = smp_boot_secondaries(&board);
	print_banner(&board, online);
	/* The counter starts at 0 when the machine does (QEMU; real boards
	 * count from power-on), so this is machine start to banner. */
	printf("hv: banner at %llu us of machine time\n",
	       (unsigned long long)(timer_now() * 1000000 / timer_freq()));
	printf("hv: %llu MiB free for VMs, timer %llu Hz, %s, EL2 map uses %u table pages\n",
	       (unsigned long long)(page_pool_free_pages(&hyp_pool) >> 8),
	       (unsigned long long)timer_freq(), gic_name(), hyp_map_tables_used());
	if (online != board.ncpus && online != CONFIG_MAX_CPUS)
		ok = false;
#ifdef CONFIG_SELFTEST
	ok = selftest_run() && ok;
#endif
	finish(ok);
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
	if (r == 0 && bootargs_has(board.bootargs, "hv.exit=semihosting"))
		semihost_exit(EXIT_WRONG_EL);
	arch_halt();
}
