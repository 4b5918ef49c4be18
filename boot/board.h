/*
 * The machine as read from the device tree the boot loader handed over:
 * memory, CPUs, console UART, interrupt controller, timer and PSCI.
 * board_from_fdt() fills it once at boot; everything after reads it.
 */
#ifndef BOOT_BOARD_H
#define BOOT_BOARD_H

#include "lib/memrange.h"
#include "lib/types.h"

#define BOARD_MAX_CPUS 64
#define BOARD_MAX_MEM 16      /* RAM ranges after removing reservations */
#define BOARD_MAX_RESERVED 32 /* reservations read from the DTB */
#define BOARD_MODEL_LEN 64

enum cpu_enable_method {
	CPU_ENABLE_NONE,       /* the boot CPU needs no method */
	CPU_ENABLE_PSCI,
	CPU_ENABLE_SPIN_TABLE,
};

struct board_cpu {
	u64 mpidr;             /* affinity fields of MPIDR_EL1 (the `reg`) */
	enum cpu_enable_method enable;
	paddr_t release_addr;  /* spin table only: `cpu-release-addr` */
};

enum gic_version { GIC_NONE = 0, GIC_V2 = 2, GIC_V3 = 3 };

struct board_gic {
	enum gic_version version;
	paddr_t dist;          /* GICD */
	u64 dist_size;
	/* GICv3: first redistributor region; GICv2: CPU interface (GICC). */
	paddr_t redist_or_cpuif;
	u64 redist_or_cpuif_size;
	/* Virtualisation extensions (GICv2 GICH/GICV), 0 when absent. */
	paddr_t gich;
	paddr_t gicv;
	u32 maint_intid;       /* maintenance interrupt INTID, 0 if absent */
};

/* INTIDs of the architected timer PPIs, in the DT binding's order. */
struct board_timer {
	u32 sec_phys_intid;
	u32 phys_intid;        /* EL1 physical (CNTP) */
	u32 virt_intid;        /* EL1 virtual (CNTV) */
	u32 hyp_phys_intid;    /* EL2 physical (CNTHP) */
	u32 freq_hz;           /* `clock-frequency`, 0: read CNTFRQ_EL0 */
};

enum psci_conduit { PSCI_NONE, PSCI_SMC, PSCI_HVC };

struct board {
	char model[BOARD_MODEL_LEN];   /* root `model`, or first `compatible` */
	paddr_t uart_base;             /* from /chosen stdout-path */
	u64 uart_size;
	bool uart_is_pl011;
	bool uart_not_stdout;          /* stdout-path named a non-PL011 UART */
	/* INTID of the console UART's interrupt (an SPI of the GIC below);
	 * 0 when the DTB gives it none or routes it elsewhere. */
	u32 uart_intid;
	struct board_gic gic;
	struct board_timer timer;
	enum psci_conduit psci;
	unsigned int ncpus;
	struct board_cpu cpus[BOARD_MAX_CPUS];
	/* `memory` nodes, as found (before reservations are removed). */
	unsigned int nmem;
	struct mem_range mem[BOARD_MAX_MEM];
	/* /memreserve/ entries and /reserved-memory children with `reg`. */
	unsigned int nreserved;
	struct mem_range reserved[BOARD_MAX_RESERVED];
	const char *bootargs;          /* /chosen bootargs, NULL if none */
};

/*
 * Parse @fdt into @b. On failure returns a negative errno and writes a
 * message naming the node or property at fault into @err (@errlen bytes),
 * e.g. "/cpus/cpu@1: no `reg`". Nothing is printed: the caller decides.
 */
int board_from_fdt(const void *fdt, struct board *b, char *err, size_t errlen);

#endif
