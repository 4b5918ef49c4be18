/* hvdirty's error reports, names and JSON strings (output.h). */
#include "tools/hvdirty/output.h"

#include <stdarg.h>
#include <string.h>

#include "tools/hvdirty/hvdirty.h"

void report_line(FILE *err, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "hvdirty: %s: ", what);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

int exit_for_status(uint32_t status)
{
	switch (status) {
	case HVD_E_PERM:
	case HVD_E_NOVM:
		return HVD_EXIT_REFUSED;
	case HVD_E_BUSY:
	case HVD_E_STATE:
		return HVD_EXIT_BUSY;
	default:
		return HVD_EXIT_FAILED;
	}
}

int report_client(FILE *err, const char *what, const struct hvdc *c, int rc,
		  const char *hint)
{
	const char *sep = hint && *hint ? "; " : "";

	if (!hint)
		hint = "";
	if (rc != HVDC_E_STATUS)
		return report(err, HVD_EXIT_FAILED, what, "%s%s%s", c->why, sep, hint);
	if (c->status == HVD_E_VERSION)
		return report(err, HVD_EXIT_FAILED, what, "the service speaks protocol "
			      "version %u, this tool %u (%s)", c->service_version,
			      HVD_VERSION, c->reason);
	return report(err, exit_for_status(c->status), what, "%s (%s)%s%s", c->reason,
		      hvd_status_str(c->status), sep, hint);
}

const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {
		[HVD_MODE_OFF] = "off", [HVD_MODE_WP] = "wp",
		[HVD_MODE_DBM] = "dbm", [HVD_MODE_AUTO] = "auto",
	};

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "unknown";
}

static const struct {
	uint32_t flag;
	const char *name;
} vm_flag_names[] = {
	{ HVD_VM_STOPPED, "stopped" }, { HVD_VM_DBM, "dbm" },
	{ HVD_VM_ATTACHED, "attached" }, { HVD_VM_PAUSED, "paused" },
};
#define NR_VM_FLAGS (sizeof(vm_flag_names) / sizeof(vm_flag_names[0]))

const char *vm_flags_text(uint32_t flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NR_VM_FLAGS && used < len; i++) {
		if (!(flags & vm_flag_names[i].flag))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 vm_flag_names[i].name);
	}
	return buf[0] ? buf : "-";
}

void json_vm_flags(FILE *f, uint32_t flags)
{
	const char *sep = "";

	fputc('[', f);
	for (size_t i = 0; i < NR_VM_FLAGS; i++) {
		if (!(flags & vm_flag_names[i].flag))
			continue;
		fprintf(f, "%s\"%s\"", sep, vm_flag_names[i].name);
		sep = ",";
	}
	fputc(']', f);
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < ' ')
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}
