/*
 * The dirty-log service: the hvdirty protocol (virt/hvdirty_proto.h,
 * docs/protocol.md) on vsock CID 2, port HVD_PORT, served on the
 * connected management VM's vCPU through virt/manage.h.
 */
#ifndef VIRT_HVDIRTY_SVC_H
#define VIRT_HVDIRTY_SVC_H

/* Offers the service (vsock_register_service()): at boot, before any
 * VM runs. Returns 0 or a negative errno. */
int hvdirty_svc_init(void);

#endif
