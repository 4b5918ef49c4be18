/* Memory and instruction barriers. Each use site says what it orders. */
#ifndef ARCH_ARM64_BARRIER_H
#define ARCH_ARM64_BARRIER_H

#if defined(__aarch64__)
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define dmb(opt) __asm__ volatile("dmb " #opt ::: "memory")
#define sev() __asm__ volatile("sev" ::: "memory")
#define wfe() __asm__ volatile("wfe" ::: "memory")
#define wfi() __asm__ volatile("wfi" ::: "memory")
#else
/* Host builds of mm/ code for unit tests: a full fence stands in for
 * every barrier (there is no other observer than the test's threads). */
#define isb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define dsb(opt) __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define dmb(opt) __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#endif
