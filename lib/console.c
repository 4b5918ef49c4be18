/* Console output: formats into a bounded buffer, writes under one lock. */
#include "lib/console.h"

#include "lib/arch_hooks.h"
#include "lib/printf.h"
#include "lib/spinlock.h"

#define CONSOLE_LINE_MAX 512

static void (*console_putc)(char c);
/* Serialises whole writes from different CPUs (docs/locking.md). */
static struct spinlock console_lock = SPINLOCK_INIT;
static bool console_panic;

void console_set_sink(void (*putc)(char c))
{
	console_putc = putc;
}

void console_enter_panic(void)
{
	WRITE_ONCE(console_panic, true);
}

static void console_write_locked(const char *s)
{
	if (!console_putc)
		return;
	for (; *s; s++) {
		if (*s == '\n')
			console_putc('\r');
		console_putc(*s);
	}
}

void console_puts(const char *s)
{
	u64 flags;

	if (READ_ONCE(console_panic)) {
		console_write_locked(s);
		return;
	}
	flags = arch_irq_save();
	spin_lock(&console_lock);
	console_write_locked(s);
	spin_unlock(&console_lock);
	arch_irq_restore(flags);
}

int vprintf(const char *fmt, va_list ap)
{
	char line[CONSOLE_LINE_MAX];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	console_puts(line);
	if (n >= (int)sizeof(line))
		console_puts("...[truncated]\n");
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
