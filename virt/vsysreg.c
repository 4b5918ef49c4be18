/*
 * System registers a guest reaches only through the hypervisor: the ID
 * registers (HCR_EL2.TID3), which are shown with what the hypervisor does
 * not virtualise taken out, and the GICv3 SGI registers, which the vGIC
 * turns into virtual SGIs. Any other trapped register stops the VM.
 */
#include "arch/arm64/sysreg.h"
#include "drivers/gic.h"
#include "virt/exit.h"
#include "virt/vsysreg.h"

/* ISS of a trapped MSR/MRS (EC 0x18) */
#define SYS_OP0(iss) (((iss) >> 20) & 3)
#define SYS_OP2(iss) (((iss) >> 17) & 7)
#define SYS_OP1(iss) (((iss) >> 14) & 7)
#define SYS_CRN(iss) (((iss) >> 10) & 15)
#define SYS_RT(iss) (((iss) >> 5) & 31)
#define SYS_CRM(iss) (((iss) >> 1) & 15)
#define SYS_READ(iss) ((iss) & 1)
#define SYS_ENC(op0, op1, crn, crm, op2) \
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

#define ICC_SGI1R SYS_ENC(3, 0, 12, 11, 5)
#define ICC_ASGI1R SYS_ENC(3, 0, 12, 11, 6)
#define ICC_SGI0R SYS_ENC(3, 0, 12, 11, 7)

/* 4-bit ID register fields */
#define FIELD(shift) (0xfUL << (shift))

/*
 * Fields of each AArch64 ID register (op0 3, op1 0, CRn 0, CRm 4..7) that
 * a guest sees as the hardware has them; all others read as zero, i.e.
 * "not implemented". Shown: what works at EL0/EL1 with nothing from EL2.
 * Hidden: EL2/EL3 and their features, SVE, SME, MTE, RAS, MPAM, AMU,
 * the PMU, trace and statistical profiling (all trapped by CPTR_EL2 or
 * MDCR_EL2), LORegions (HCR_EL2.TLOR), and registers newer than this
 * table. GIC (PFR0 [27:24]) and PARange (MMFR0 [3:0]) are set by the
 * code below, not copied.
 */
/* The ID registers by (CRm, op2) in one number, for switches. */
#define ID_REG(crm, op2) ((crm) * 8 + (op2))

static u64 id_visible_mask(unsigned int crm, unsigned int op2)
{
	switch (ID_REG(crm, op2)) {
	case ID_REG(4, 0):   /* ID_AA64PFR0: EL0, EL1, FP, AdvSIMD, DIT, CSV2, CSV3 */
		return FIELD(0) | FIELD(4) | FIELD(16) | FIELD(20) | FIELD(48) |
		       FIELD(56) | FIELD(60);
	case ID_REG(4, 1):   /* ID_AA64PFR1: BT, SSBS, CSV2_frac */
		return FIELD(0) | FIELD(4) | FIELD(32);
	case ID_REG(5, 0):   /* ID_AA64DFR0: DebugVer, BRPs, WRPs, CTX_CMPs, DoubleLock */
		return FIELD(0) | FIELD(12) | FIELD(20) | FIELD(28) | FIELD(36);
	case ID_REG(6, 0):   /* ID_AA64ISAR0..2: instructions, all usable */
	case ID_REG(6, 1):
	case ID_REG(6, 2):
		return ~0UL;
	case ID_REG(7, 0):   /* ID_AA64MMFR0: all but the stage-2 granules,
			      * ExS, FGT; PARange is set below */
		return ~(FIELD(0) | FIELD(32) | FIELD(36) | FIELD(40) |
			 FIELD(44) | FIELD(56));
	case ID_REG(7, 1):   /* ID_AA64MMFR1: HAFDBS, HPDS, PAN, SpecSEI, ETS,
			      * AFP, nTLBPA, CMOW, ECBHB */
		return FIELD(0) | FIELD(12) | FIELD(20) | FIELD(24) | FIELD(36) |
		       FIELD(44) | FIELD(48) | FIELD(56) | FIELD(60);
	case ID_REG(7, 2):   /* ID_AA64MMFR2: all but NV, FWB, EVT */
		return ~(FIELD(24) | FIELD(40) | FIELD(56));
	default:
		return 0;
	}
}

/* The hardware value of ID register (CRm, op2): the encodings form one
 * block, op0 3 op1 0 CRn 0, whose unallocated members read as zero. */
#define ID_CASE(m, o) \
	case ID_REG(m, o): return read_sysreg(s3_0_c0_c##m##_##o)
#define ID_ROW(m) \
	ID_CASE(m, 0); ID_CASE(m, 1); ID_CASE(m, 2); ID_CASE(m, 3); \
	ID_CASE(m, 4); ID_CASE(m, 5); ID_CASE(m, 6); ID_CASE(m, 7)

static u64 id_hardware(unsigned int crm, unsigned int op2)
{
	switch (ID_REG(crm, op2)) {
	ID_ROW(1);
	ID_ROW(2);
	ID_ROW(3);
	ID_ROW(4);
	ID_ROW(5);
	ID_ROW(6);
	ID_ROW(7);
	default:
		return 0;
	}
}

static u64 id_register(const struct vcpu *v, unsigned int crm, unsigned int op2)
{
	u64 hw = id_hardware(crm, op2);
	u64 val;

	if (crm <= 3)
		return hw;   /* AArch32 ID registers: only for AArch32 EL0 */
	val = hw & id_visible_mask(crm, op2);
	if (crm == 4 && op2 == 0 && v->vm->vgic.version == 3)
		val |= 1UL << 24;                  /* GIC: system registers */
	if (crm == 7 && op2 == 0)
		val |= v->vm->ipa_range;           /* PARange: the IPA size */
	return val;
}

bool vsysreg_trap(struct vcpu *v, u32 iss)
{
	unsigned int op0 = SYS_OP0(iss), op1 = SYS_OP1(iss), crn = SYS_CRN(iss);
	unsigned int crm = SYS_CRM(iss), op2 = SYS_OP2(iss), rt = SYS_RT(iss);
	u32 enc = SYS_ENC(op0, op1, crn, crm, op2);

	if (SYS_READ(iss) && op0 == 3 && op1 == 0 && crn == 0 && crm >= 1) {
		vcpu_set_reg(v, rt, id_register(v, crm, op2));
		return true;
	}
	if (!SYS_READ(iss) && (enc == ICC_SGI1R || enc == ICC_ASGI1R || enc == ICC_SGI0R)) {
		vgic_sgi_sysreg(v, vcpu_reg(v, rt), enc != ICC_SGI1R);
		return true;
	}
	vcpu_crash(v, "%s of system register S%u_%u_C%u_C%u_%u: not emulated",
		   SYS_READ(iss) ? "read" : "write", op0, op1, crn, crm, op2);
	return false;
}
