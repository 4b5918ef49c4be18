/*
 * System register access and the bit fields the hypervisor uses, named as
 * in the Arm ARM. Values only; the code that uses them lives elsewhere.
 */
#ifndef ARCH_ARM64_SYSREG_H
#define ARCH_ARM64_SYSREG_H

#define BIT(n) (1UL << (n))

/* SCTLR_ELx */
#define SCTLR_M BIT(0)          /* stage-1 MMU enable */
#define SCTLR_A BIT(1)          /* alignment check */
#define SCTLR_C BIT(2)          /* data cacheability */
#define SCTLR_SA BIT(3)         /* SP alignment check */
#define SCTLR_I BIT(12)         /* instruction cacheability */
#define SCTLR_WXN BIT(19)       /* writable implies never-execute */
#define SCTLR_EE BIT(25)        /* big-endian data at EL2 */
/* RES1 bits of SCTLR_EL2 when HCR_EL2.E2H = 0. */
#define SCTLR_EL2_RES1 (BIT(4) | BIT(5) | BIT(11) | BIT(16) | BIT(18) | \
			BIT(22) | BIT(23) | BIT(28) | BIT(29))

/* HCR_EL2 */
#define HCR_VM BIT(0)           /* stage-2 translation on */
#define HCR_SWIO BIT(1)         /* set/way invalidate acts as clean+invalidate */
#define HCR_FMO BIT(3)          /* physical FIQs to EL2 */
#define HCR_IMO BIT(4)          /* physical IRQs to EL2 */
#define HCR_AMO BIT(5)          /* SErrors to EL2 */
#define HCR_FB BIT(9)           /* EL1 TLB/cache maintenance broadcast */
#define HCR_BSU_IS (1UL << 10)  /* EL1 barriers at least inner shareable */
#define HCR_TWI BIT(13)         /* trap WFI */
#define HCR_TID3 BIT(18)        /* trap reads of the ID registers (group 3) */
#define HCR_TSC BIT(19)         /* trap SMC */
#define HCR_TIDCP BIT(20)       /* trap implementation-defined registers */
#define HCR_RW BIT(31)          /* EL1 is AArch64 */
#define HCR_TLOR BIT(35)        /* trap LORegion registers */
#define HCR_APK BIT(40)         /* pointer-authentication keys not trapped */
#define HCR_API BIT(41)         /* pointer-authentication instructions not trapped */
/* What EL2 runs with before any VM exists: it takes its own interrupts. */
#define HCR_EL2_HOST (HCR_RW | HCR_AMO | HCR_IMO | HCR_FMO)

/* CPTR_EL2 (E2H = 0): what the guest may use without a trap */
#define CPTR_EL2_RES1 (0xffUL | BIT(9) | BIT(13))
#define CPTR_TZ BIT(8)          /* SVE */
#define CPTR_TSM BIT(12)        /* SME (RES1 without it) */
#define CPTR_TTA BIT(20)        /* trace registers */
#define CPTR_TAM BIT(30)        /* activity monitors */

/* MDCR_EL2 */
#define MDCR_HPMN_MASK 0x1fUL   /* event counters left to EL1 */
#define MDCR_TPMCR BIT(5)       /* trap PMCR_EL0 */
#define MDCR_TPM BIT(6)         /* trap the other PMU registers */
#define MDCR_TPMS BIT(14)       /* trap statistical profiling */

/* CNTHCTL_EL2 (E2H = 0) */
#define CNTHCTL_EL1PCTEN BIT(0) /* EL1 reads the physical counter */
#define CNTHCTL_EL1PCEN BIT(1)  /* EL1 uses the physical timer */

/* VMPIDR_EL2: bit 31 is RES1 */
#define VMPIDR_RES1 BIT(31)

/* SPSR: EL1h with D, A, I, F masked, as a kernel is entered */
#define SPSR_EL1H_MASKED 0x3c5

/* SCR_EL3, used only when entered at EL3 */
#define SCR_NS BIT(0)
#define SCR_SMD BIT(7)
#define SCR_HCE BIT(8)
#define SCR_RW BIT(10)
#define SCR_RES1 (BIT(4) | BIT(5))

/* SPSR: EL2h with D, A, I, F masked */
#define SPSR_EL2H_MASKED 0x3c9

/* TCR_EL2 (E2H = 0) */
#define TCR_T0SZ(bits) ((64UL - (bits)) << 0)
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER (3UL << 12)
#define TCR_TG0_4K (0UL << 14)
#define TCR_PS_SHIFT 16
#define TCR_EL2_RES1 (BIT(23) | BIT(31))

/* MAIR attribute indexes used by the EL2 map (see arch/arm64/pte.h). */
#define MAIR_DEVICE_nGnRE 0x04UL
#define MAIR_NORMAL_WB 0xffUL
#define MAIR_NORMAL_NC 0x44UL
#define MT_DEVICE 0
#define MT_NORMAL 1
#define MT_NORMAL_NC 2
#define MAIR_EL2_VALUE ((MAIR_DEVICE_nGnRE << (8 * MT_DEVICE)) | \
			(MAIR_NORMAL_WB << (8 * MT_NORMAL)) | \
			(MAIR_NORMAL_NC << (8 * MT_NORMAL_NC)))

/* ID_AA64MMFR0_EL1 / ID_AA64MMFR1_EL1 fields */
#define MMFR0_PARANGE(v) ((v) & 0xf)
/* PARange encodings, also the PS field of TCR_EL2 and VTCR_EL2. */
#define PARANGE_48 5            /* largest size usable without FEAT_LPA2 */
#define MMFR1_HAFDBS(v) ((v) & 0xf)
#define HAFDBS_NONE 0
#define HAFDBS_AF 1
#define HAFDBS_AF_DBM 2

/* MPIDR_EL1: the affinity fields, without the MT/U flags */
#define MPIDR_AFF_MASK 0xff00ffffffUL
#define MPIDR_AFF0(m) ((m) & 0xff)
#define MPIDR_AFF1(m) (((m) >> 8) & 0xff)
#define MPIDR_AFF2(m) (((m) >> 16) & 0xff)
#define MPIDR_AFF3(m) (((m) >> 32) & 0xff)

/* CNTHP_CTL_EL2 / CNTx_CTL */
#define CNT_CTL_ENABLE BIT(0)
#define CNT_CTL_IMASK BIT(1)
#define CNT_CTL_ISTATUS BIT(2)

#ifndef __ASSEMBLY__

/* Address bits of a PARange / PS encoding (reserved values: 48). */
static inline unsigned int parange_bits(unsigned int enc)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return enc < sizeof(bits) ? bits[enc] : 48;
}

#define read_sysreg(reg) ({                                              \
	unsigned long v_;                                                \
	__asm__ volatile("mrs %0, " #reg : "=r"(v_));                    \
	v_;                                                              \
})

#define write_sysreg(reg, val) \
	__asm__ volatile("msr " #reg ", %0" : : "r"((unsigned long)(val)) : "memory")

/* Generic-system-register names for GICv3 CPU interface registers that
 * older assemblers do not know by name. */
#define ICC_SRE_EL2 s3_4_c12_c9_5
#define ICC_SRE_EL1 s3_0_c12_c12_5
#define ICC_PMR_EL1 s3_0_c4_c6_0
#define ICC_IAR1_EL1 s3_0_c12_c12_0
#define ICC_EOIR1_EL1 s3_0_c12_c12_1
#define ICC_CTLR_EL1 s3_0_c12_c12_4
#define ICC_IGRPEN1_EL1 s3_0_c12_c12_7
#define ICC_SGI1R_EL1 s3_0_c12_c11_5
#define ICC_BPR1_EL1 s3_0_c12_c12_3

#endif
#endif
