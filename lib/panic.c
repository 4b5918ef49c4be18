/* panic(): the one way the hypervisor stops after a fatal error. */
#include "lib/panic.h"

#include "lib/arch_hooks.h"
#include "lib/console.h"

void panic(const char *fmt, ...)
{
	va_list ap;

	arch_irq_save();
	console_enter_panic();
	printf("\nhv: PANIC on CPU %u: ", arch_cpu_index());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nhv: stopped.\n");
	arch_halt();
}
