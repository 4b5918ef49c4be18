/* Memory and instruction barriers. Each use site says what it orders. */
#ifndef ARCH_ARM64_BARRIER_H
#define ARCH_ARM64_BARRIER_H

#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define dmb(opt) __asm__ volatile("dmb " #opt ::: "memory")
#define sev() __asm__ volatile("sev" ::: "memory")
#define wfe() __asm__ volatile("wfe" ::: "memory")
#define wfi() __asm__ volatile("wfi" ::: "memory")

#endif
