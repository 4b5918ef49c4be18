/* ESR_ELx decoding for crash dumps and trap messages. */
#include "arch/arm64/esr.h"

#include "lib/compiler.h"
#include "lib/printf.h"

static const struct {
	u8 ec;
	const char *name;
} ec_names[] = {
	{ EC_UNKNOWN, "unknown reason" },
	{ EC_WFX, "WFI/WFE" },
	{ EC_FP_ASIMD, "FP/SIMD access" },
	{ EC_ILLEGAL, "illegal execution state" },
	{ EC_SVC64, "SVC (AArch64)" },
	{ EC_HVC64, "HVC (AArch64)" },
	{ EC_SMC64, "SMC (AArch64)" },
	{ EC_SYS64, "MSR/MRS/system instruction" },
	{ EC_SVE, "SVE access" },
	{ EC_IABT_LOW, "instruction abort (lower EL)" },
	{ EC_IABT_CUR, "instruction abort (same EL)" },
	{ EC_PC_ALIGN, "PC alignment fault" },
	{ EC_DABT_LOW, "data abort (lower EL)" },
	{ EC_DABT_CUR, "data abort (same EL)" },
	{ EC_SP_ALIGN, "SP alignment fault" },
	{ EC_SERROR, "SError" },
	{ EC_BRK64, "BRK (AArch64)" },
};

const char *esr_class_name(u32 ec)
{
	for (size_t i = 0; i < ARRAY_SIZE(ec_names); i++)
		if (ec_names[i].ec == ec)
			return ec_names[i].name;
	return "reserved/unhandled class";
}

/* Fault status codes whose low two bits give the translation level. */
static const char *const fsc_level_names[] = {
	"address size fault",      /* 0b0000LL */
	"translation fault",       /* 0b0001LL */
	"access flag fault",       /* 0b0010LL */
	"permission fault",        /* 0b0011LL */
};

static const char *const fsc_level_suffix[] = {
	", level 0", ", level 1", ", level 2", ", level 3",
};

const char *esr_fault_name(u32 fsc)
{
	switch (fsc) {
	case 0x10: return "synchronous external abort";
	case 0x11: return "synchronous tag check fault";
	case 0x21: return "alignment fault";
	case 0x30: return "TLB conflict abort";
	case 0x31: return "unsupported atomic hardware update";
	default: break;
	}
	if (fsc >= 0x14 && fsc <= 0x17)
		return "synchronous external abort on table walk";
	if (fsc < 0x10)
		return fsc_level_names[fsc >> 2];
	return "unknown fault status";
}

static bool esr_is_abort(u32 ec)
{
	return ec == EC_IABT_LOW || ec == EC_IABT_CUR ||
	       ec == EC_DABT_LOW || ec == EC_DABT_CUR;
}

int esr_describe(u64 esr, u64 far, char *buf, size_t len)
{
	u32 ec = ESR_EC(esr), iss = ESR_ISS(esr), fsc = ISS_ABT_FSC(iss);
	bool data = ec == EC_DABT_LOW || ec == EC_DABT_CUR;

	if (!esr_is_abort(ec))
		return snprintf(buf, len, "EC 0x%02x %s, ISS 0x%07x", ec,
				esr_class_name(ec), iss);
	return snprintf(buf, len, "EC 0x%02x %s: %s%s%s at 0x%016llx", ec,
			esr_class_name(ec), esr_fault_name(fsc),
			fsc < 0x10 ? fsc_level_suffix[fsc & 3] : "",
			data ? (ISS_DABT_WNR(iss) ? ", write" : ", read") : "",
			(unsigned long long)far);
}
