/*
 * The guest physical platform every VM sees: a subset of QEMU's `virt`
 * machine at the same addresses and interrupt numbers, so that software
 * written for `virt` runs unmodified. The generated device tree
 * (virt/guest_dt.c), the stage-2 map and the device emulation all read
 * these constants; nothing else may hard-code a guest address.
 */
#ifndef VIRT_GUEST_MAP_H
#define VIRT_GUEST_MAP_H

/* GIC distributor (both versions), 64 KiB. */
#define GUEST_GICD_BASE 0x08000000ULL
#define GUEST_GICD_SIZE 0x10000ULL
/* GICv2 CPU interface: the hardware GICV, mapped through stage 2. */
#define GUEST_GICC_BASE 0x08010000ULL
#define GUEST_GICC_SIZE 0x2000ULL
/* GICv3 redistributors: one 128 KiB frame (RD_base + SGI_base) per vCPU. */
#define GUEST_GICR_BASE 0x080a0000ULL
#define GUEST_GICR_STRIDE 0x20000ULL

/* PL011 console, 4 KiB, SPI 1. */
#define GUEST_UART_BASE 0x09000000ULL
#define GUEST_UART_SIZE 0x1000ULL
#define GUEST_UART_INTID 33u

/* virtio-mmio transports: slot i at BASE + i * STRIDE, SPI 16 + i. */
#define GUEST_VIRTIO_BASE 0x0a000000ULL
#define GUEST_VIRTIO_STRIDE 0x200ULL
#define GUEST_VIRTIO_SLOTS 32
#define GUEST_VIRTIO_INTID(slot) (48 + (slot))

/* RAM starts here; its size comes from the scenario. */
#define GUEST_RAM_BASE 0x40000000ULL

/* Private interrupts, as on virt (INTIDs). */
#define GUEST_MAINT_INTID 25u      /* GIC maintenance (PPI 9) */
#define GUEST_HYP_TIMER_INTID 26u  /* EL2 physical timer (PPI 10) */
#define GUEST_VTIMER_INTID 27u     /* EL1 virtual timer (PPI 11) */
#define GUEST_SEC_TIMER_INTID 29u  /* secure physical timer (PPI 13) */
#define GUEST_PTIMER_INTID 30u     /* EL1 physical timer (PPI 14) */

/* Shared peripheral interrupts the vGIC implements: INTIDs 32..(32+N-1). */
#define GUEST_NR_SPIS 64

#endif
