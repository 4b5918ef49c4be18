/*
 * Entry of the test guests: arm64 Image header, EL1 set-up, an identity
 * map with caches on, self-relocation, BSS, a stack per vCPU, then C.
 * The loader enters _start at EL1h with the MMU off and x0 = DTB (Linux
 * arm64 boot protocol); PSCI CPU_ON enters rt_secondary_entry with
 * x0 = the vCPU index (the context id rt_cpu_on() passes).
 */
#include "arch/arm64/asm.h"
#include "arch/arm64/sysreg.h"
#include "tests/guests/rt/rt.h"
#include "virt/guest_map.h"


/*
 * The map: one level-1 table of 1 GiB blocks, VA = PA below 2^RT_VA_BITS.
 * GiB 0 holds the devices (Device-nGnRE, never executable); every other
 * GiB is Normal write-back memory, so the guest can reach any address
 * below 512 GiB (the attacker guest relies on it). Absent memory there
 * is the hypervisor's business: stage 2 decides what an access reaches.
 */
#define GIB_SHIFT 30
#define L1_ENTRIES (1 << (RT_VA_BITS - GIB_SHIFT))
#define PTE_BLOCK 1                   /* valid level-1 block */
#define PTE_ATTR(i) ((i) << 2)        /* AttrIndx: MAIR slot */
#define PTE_SH_INNER (3 << 8)
#define PTE_AF (1 << 10)
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)
#define PTE_DEVICE (PTE_BLOCK | PTE_ATTR(MT_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN)
#define PTE_NORMAL (PTE_BLOCK | PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_UXN)

#define MAIR_EL1_VALUE ((MAIR_DEVICE_nGnRE << (8 * MT_DEVICE)) | \
			(MAIR_NORMAL_WB << (8 * MT_NORMAL)))
#define TCR_EPD1 (1UL << 23)          /* no TTBR1 walks */
#define TCR_TG1_4K (2UL << 30)
#define TCR_IPS_SHIFT 32
/* TG0 = 0 is the 4 KiB granule (TCR_TG0_4K, which gas cannot parse). */
#define TCR_EL1_VALUE (TCR_T0SZ(RT_VA_BITS) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | \
		       TCR_SH0_INNER | TCR_EPD1 | TCR_TG1_4K)
/* SCTLR_EL1 RES1 bits (ARMv8.0: 11, 20, 22, 23, 28, 29). */
#define SCTLR_EL1_RES1 (BIT(11) | BIT(20) | BIT(22) | BIT(23) | BIT(28) | BIT(29))
#define CPACR_FPEN_ALL (3 << 20)      /* FP/SIMD: no trap at EL0 or EL1 */

#if RT_DEVICE_END != (1 << GIB_SHIFT) || GUEST_RAM_BASE < RT_DEVICE_END
#error "the map gives GiB 0, and only it, to devices: RAM must start above"
#endif

	.section .text.head, "ax"
FUNC(_start)
	/* arm64 Linux Image header (Documentation/arch/arm64/booting). */
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0x80000			/* text_offset */
	.quad	_image_size		/* image_size, BSS included */
	.quad	0xa			/* flags: LE, 4 KiB pages, anywhere */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */
ENDFUNC(_start)

	.text
/* x19 = DTB through to rt_main_primary(). */
FUNC(primary_entry)
	mov	x19, x0
	bl	el1_reset_state
	bl	build_map
	bl	mmu_enable
	bl	relocate
	bl	clear_bss
	adr_l	x0, rt_stacks
	mov	x1, #RT_STACK_SIZE
	add	sp, x0, x1		/* vCPU 0's stack is the first slot */
	mov	x0, x19
	bl	rt_main_primary		/* does not return */
	b	.
ENDFUNC(primary_entry)

/* x19 = vCPU index. The map and the relocations are the boot vCPU's
 * work, done before it called CPU_ON. */
FUNC(rt_secondary_entry)
	mov	x19, x0
	bl	el1_reset_state
	bl	mmu_enable
	cmp	x19, #RT_MAX_CPUS
	b.hs	park			/* no stack for a bad context id */
	adr_l	x0, rt_stacks
	mov	x1, #RT_STACK_SIZE
	madd	x2, x19, x1, x1		/* (index + 1) * size: top of its slot */
	add	sp, x0, x2
	mov	x0, x19
	bl	rt_main_secondary	/* does not return */
park:	wfi
	b	park
ENDFUNC(rt_secondary_entry)

/* EL1 with everything masked, MMU and caches off, our vectors, FP/SIMD
 * usable (guest C code may use it). No stack needed. */
FUNC(el1_reset_state)
	msr	daifset, #0xf
	mov_q	x9, (SCTLR_EL1_RES1 | SCTLR_SA)
	msr	sctlr_el1, x9
	adr_l	x9, rt_vectors
	msr	vbar_el1, x9
	mov	x9, #CPACR_FPEN_ALL
	msr	cpacr_el1, x9
	isb
	ret
ENDFUNC(el1_reset_state)

/*
 * Fill rt_pgtable with the map above. The stores go to memory (MMU off,
 * so Device accesses); the lines are then invalidated so that no stale
 * copy a loader left in the caches hides them once caches are on.
 */
FUNC(build_map)
	adr_l	x9, rt_pgtable
	mov_q	x10, PTE_DEVICE		/* GiB 0 */
	str	x10, [x9]
	mov_q	x10, PTE_NORMAL
	mov	x11, #1
1:	orr	x12, x10, x11, lsl #GIB_SHIFT
	str	x12, [x9, x11, lsl #3]
	add	x11, x11, #1
	cmp	x11, #L1_ENTRIES
	b.lo	1b
	dsb	sy			/* table stores done before the invalidate */
	mrs	x10, ctr_el0
	ubfx	x10, x10, #16, #4	/* DminLine: log2(words) of the smallest line */
	mov	x11, #4
	lsl	x10, x11, x10		/* line size in bytes */
	add	x11, x9, #(L1_ENTRIES * 8)
2:	dc	ivac, x9
	add	x9, x9, x10
	cmp	x9, x11
	b.lo	2b
	dsb	sy			/* invalidation done before any walk */
	ret
ENDFUNC(build_map)

/* Translation on with rt_pgtable, data and instruction caches on. The
 * output size is the CPU's PARange, at most 48 bits. */
FUNC(mmu_enable)
	mov_q	x9, MAIR_EL1_VALUE
	msr	mair_el1, x9
	mrs	x9, id_aa64mmfr0_el1
	and	x9, x9, #0xf
	mov	x10, #PARANGE_48
	cmp	x9, x10
	csel	x9, x9, x10, ls
	mov_q	x10, TCR_EL1_VALUE
	orr	x10, x10, x9, lsl #TCR_IPS_SHIFT
	msr	tcr_el1, x10
	adr_l	x9, rt_pgtable
	msr	ttbr0_el1, x9
	isb				/* settings in place before the TLBI */
	tlbi	vmalle1			/* nothing cached from before us */
	ic	iallu
	dsb	nsh			/* invalidations complete (this CPU) */
	isb
	mrs	x9, sctlr_el1
	mov_q	x10, (SCTLR_M | SCTLR_C | SCTLR_I)
	orr	x9, x9, x10
	msr	sctlr_el1, x9
	isb				/* fetch with the MMU on from here */
	ret
ENDFUNC(mmu_enable)

	.section .bss.stacks, "aw", %nobits
	.balign	16
	.globl	rt_stacks
rt_stacks:
	.space	RT_MAX_CPUS * RT_STACK_SIZE

	/* Outside BSS: build_map fills it before clear_bss runs. */
	.section .pgtable, "aw", %nobits
	.balign	4096
	.globl	rt_pgtable		/* rt_map_readonly() changes blocks */
rt_pgtable:
	.space	L1_ENTRIES * 8
