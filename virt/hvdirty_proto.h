/*
 * The hvdirty protocol: how a management VM talks to the hypervisor's
 * dirty-log service over a vsock stream to CID 2, port HVD_PORT.
 * docs/protocol.md is its description for users; this header is the
 * definition, shared by the hypervisor (virt/hvdirty_svc.c), the
 * bare-metal management guest (tests/guests/) and tools/hvdirty, so it
 * uses only <stdint.h> types and defines no symbol.
 *
 * Every message, either way, is one struct hvd_hdr followed by a body;
 * all integers are little-endian. A request's @len covers header and
 * body and is at most HVD_REQ_MAX; the reply echoes the request's
 * @type with HVD_REPLY set and its @seq, and carries a status. A
 * request the service cannot frame (@len below the header or above
 * HVD_REQ_MAX) is answered with HVD_E_MALFORMED (@type HVD_REPLY
 * alone, @seq 0) and the connection is closed: the stream has no
 * boundary left to trust. A framed request with a wrong body size, a
 * reserved field that is not 0 or a field out of range is answered
 * with HVD_E_MALFORMED and the connection goes on. Requests are
 * answered in order, one at a time. Every reply's @len is a multiple
 * of HVD_REPLY_ALIGN and at most HVD_REPLY_MAX.
 *
 * Versions: @len and @version keep their place in every version; a
 * request of another version is answered with HVD_E_VERSION in the
 * service's version, and the connection goes on.
 */
#ifndef VIRT_HVDIRTY_PROTO_H
#define VIRT_HVDIRTY_PROTO_H

#include <stdint.h>

#define HVD_CID 2u               /* the hypervisor */
#define HVD_PORT 7000u
#define HVD_VERSION 1u

struct hvd_hdr {
	uint32_t len;            /* bytes of the message, this header included */
	uint16_t version;        /* HVD_VERSION; a reply gives the service's */
	uint16_t type;           /* HVD_* request type; | HVD_REPLY in replies */
	uint32_t seq;            /* the client's, echoed in the reply */
	/* Request: the id of the VM it is about (its index in the scenario;
	 * ignored by HVD_LIST). Reply: HVD_OK or an HVD_E_* status. */
	uint32_t arg;
};

#define HVD_REPLY 0x8000u
/* Largest request; replies can be larger (HVD_HARVEST, HVD_LIST). */
#define HVD_REQ_MAX 64u
/* Reply lengths are multiples of this (error reasons are NUL-padded),
 * so that a client can read entries in place. */
#define HVD_REPLY_ALIGN 8u
/* Guest pages: struct hvd_entry @offset counts them, HVD_DIGEST ranges
 * are aligned to them. */
#define HVD_PAGE_SIZE 4096u

/* Request types, their bodies, and their replies' bodies. */
enum hvd_type {
	/* -> struct hvd_list_reply: the VMs the caller manages. */
	HVD_LIST = 1,
	/* struct hvd_log_start -> struct hvd_log_start (the mode in effect). */
	HVD_LOG_START = 2,
	/* -> no body. Entries still logged stay for a harvest. */
	HVD_LOG_STOP = 3,
	/* struct hvd_attach -> struct hvd_attach_reply. */
	HVD_ATTACH = 4,
	/* -> no body. */
	HVD_DETACH = 5,
	/* struct hvd_harvest -> struct hvd_harvest_reply + entries. */
	HVD_HARVEST = 6,
	/* -> struct hvd_count: entries re-protected and freed (at most
	 * 4096 a request: ask again until 0). Read page contents after it. */
	HVD_RESET = 7,
	/* -> no body. Returns once no vCPU of the VM runs. */
	HVD_PAUSE = 8,
	HVD_RESUME = 9,
	/* struct hvd_digest -> struct hvd_digest_reply. */
	HVD_DIGEST = 10,
	/* -> struct hvd_stats. */
	HVD_STATS = 11,
	/* struct hvd_read -> the @len bytes of the range. */
	HVD_READ = 12,
};

/* Reply statuses (struct hvd_hdr.arg). An error reply's body is a
 * NUL-terminated reason for people, NUL-padded to a multiple of
 * HVD_REPLY_ALIGN, at most HVD_REASON_MAX bytes. */
enum hvd_status {
	HVD_OK = 0,
	HVD_E_VERSION = 1,       /* unknown version: the reply's is the service's */
	HVD_E_MALFORMED = 2,     /* wrong size, reserved field not 0, field out of range */
	HVD_E_TYPE = 3,          /* unknown request type */
	HVD_E_PERM = 4,          /* the caller does not manage that VM */
	HVD_E_NOVM = 5,          /* no such VM */
	HVD_E_BUSY = 6,          /* already so (logging on, paused, attached) */
	HVD_E_STATE = 7,         /* not so (logging off, not paused, not attached) */
	HVD_E_NOTSUP = 8,        /* the hardware cannot (dbm without FEAT_HAFDBS) */
	HVD_E_NOMEM = 9,
	HVD_E_INVAL = 10,        /* a range or address that is not allowed */
};
#define HVD_REASON_MAX 96u

/* A status's name for messages ("E_PERM"); "unknown status" for others. */
static inline const char *hvd_status_str(uint32_t status)
{
	static const char *const names[] = {
		[HVD_OK] = "OK", [HVD_E_VERSION] = "E_VERSION",
		[HVD_E_MALFORMED] = "E_MALFORMED", [HVD_E_TYPE] = "E_TYPE",
		[HVD_E_PERM] = "E_PERM", [HVD_E_NOVM] = "E_NOVM", [HVD_E_BUSY] = "E_BUSY",
		[HVD_E_STATE] = "E_STATE", [HVD_E_NOTSUP] = "E_NOTSUP",
		[HVD_E_NOMEM] = "E_NOMEM", [HVD_E_INVAL] = "E_INVAL",
	};

	if (status >= sizeof(names) / sizeof(names[0]) || !names[status])
		return "unknown status";
	return names[status];
}

/* VM flags in struct hvd_vm. */
#define HVD_VM_STOPPED 1u        /* powered off or stopped for good */
#define HVD_VM_DBM 2u            /* its CPUs have FEAT_HAFDBS dirty state */
#define HVD_VM_ATTACHED 4u       /* attached into the caller */
#define HVD_VM_PAUSED 8u         /* paused by the caller */

/* Log modes. */
#define HVD_MODE_OFF 0u
#define HVD_MODE_WP 1u           /* write protection */
#define HVD_MODE_DBM 2u          /* FEAT_HAFDBS dirty state */
#define HVD_MODE_AUTO 3u         /* dbm where the CPUs have it, else wp */

struct hvd_vm {
	uint32_t id;
	uint32_t nr_vcpus;
	uint64_t ram_ipa;        /* memslot 0 */
	uint64_t ram_size;
	uint32_t vsock_cid;      /* 0: no vsock device */
	uint32_t flags;          /* HVD_VM_* */
	uint32_t log_mode;       /* HVD_MODE_* in effect */
	uint32_t reserved;       /* 0 */
	char name[16];           /* NUL-terminated */
};

struct hvd_list_reply {
	uint32_t count;
	uint32_t reserved;       /* 0 */
	struct hvd_vm vm[];      /* [count] */
};

struct hvd_log_start {
	uint32_t mode;           /* HVD_MODE_WP, _DBM or _AUTO; reply: WP or DBM */
	uint32_t reserved;       /* 0 */
};

/* Attach flags. */
#define HVD_ATTACH_RINGS 1u      /* also map the dirty rings read-write */
/* Rings an attach reply can describe. */
#define HVD_MAX_RINGS 16u

struct hvd_attach {
	uint32_t flags;          /* HVD_ATTACH_* */
	uint32_t reserved;       /* 0 */
};

/*
 * The VM's RAM is readable at @mem_ipa of the caller. With the rings:
 * ring i (vCPU i's, then the VM's own last) is @ring_entries struct
 * hvd_entry at @rings_ipa + i * @ring_stride, consumed as KVM's dirty
 * rings are: from start_index[i] on, an entry whose flags read (with
 * acquire order) HVD_ENTRY_DIRTY is copied and then marked
 * HVD_ENTRY_RESET (with release order), and HVD_RESET frees them. Once
 * attached with rings, HVD_HARVEST needs HVD_HARVEST_MAPPED.
 */
struct hvd_attach_reply {
	uint64_t mem_ipa;
	uint64_t mem_size;
	uint64_t rings_ipa;      /* 0 without HVD_ATTACH_RINGS */
	uint64_t ring_stride;
	uint32_t nr_rings;
	uint32_t ring_entries;
	uint32_t start_index[HVD_MAX_RINGS];   /* [nr_rings] used, the rest 0 */
};

/* Harvest flags. */
#define HVD_HARVEST_MAPPED 1u    /* the client reads the rings itself */
/* Entries one harvest reply carries at most. */
#define HVD_HARVEST_MAX 4096u
/* The largest reply: a full harvest, header + struct hvd_harvest_reply
 * + HVD_HARVEST_MAX entries (16 + 8 + 4096 * 16 bytes). */
#define HVD_REPLY_MAX 65560u

struct hvd_harvest {
	uint32_t max;            /* 1 .. HVD_HARVEST_MAX */
	uint32_t flags;          /* HVD_HARVEST_* */
};

/* A log entry: the layout of KVM's struct kvm_dirty_gfn. */
#define HVD_ENTRY_DIRTY 1u
#define HVD_ENTRY_RESET 2u
struct hvd_entry {
	uint32_t flags;
	uint32_t slot;           /* memslot: 0 is RAM */
	uint64_t offset;         /* page number within the slot */
};

/* A harvest pass is the requests until one answers @more = 0. */
struct hvd_harvest_reply {
	uint32_t count;
	uint32_t more;           /* 1: entries may be left, ask again */
	struct hvd_entry entry[];   /* [count] */
};

struct hvd_count {
	uint32_t count;
	uint32_t reserved;
};

/* A range of the VM's RAM: @ipa and @len multiples of HVD_PAGE_SIZE,
 * @len not 0, no wrap (else HVD_E_MALFORMED); inside the RAM (else
 * HVD_E_INVAL). */
struct hvd_digest {
	uint64_t ipa;
	uint64_t len;
};

/*
 * HVD_READ: a range of the VM's RAM, as struct hvd_digest checks it,
 * with @len at most HVD_READ_MAX; the reply's body is its bytes. Of a
 * running VM the bytes are as they were at some moment of the copy, a
 * page possibly torn; pair it with the dirty log (read a page after the
 * HVD_RESET that re-protected it, and a later write is logged again),
 * or pause the VM first.
 */
struct hvd_read {
	uint64_t ipa;
	uint64_t len;
};
/* The most one HVD_READ returns: 16 pages, a reply within HVD_REPLY_MAX. */
#define HVD_READ_MAX 65536u

struct hvd_digest_reply {
	uint64_t digest;         /* hvd_digest_update(HVD_DIGEST_SEED, range, len / 8) */
};

/* Counters since logging was last started (@log_mode: the mode it was
 * started in), then the service's for this caller since boot: every
 * request it sent on any connection, this one included. */
struct hvd_stats {
	uint64_t log_mode;
	uint64_t pages_logged;
	uint64_t wp_faults;
	uint64_t spurious_faults;
	uint64_t dbm_arm_faults;
	uint64_t dbm_scans;
	uint64_t dbm_pages_scanned;
	uint64_t dbm_pages_dirty;
	uint64_t dbm_groups_disarmed;
	uint64_t ring_full_waits;
	uint64_t overflow_pages;
	uint64_t harvested;
	uint64_t reset;
	uint64_t requests;       /* served for this caller */
	uint64_t malformed;      /* ... answered E_VERSION, E_MALFORMED, E_TYPE */
	uint64_t refused;        /* ... answered with another error */
};

/*
 * The digest of a memory range: a 64-bit multiply-xorshift over its
 * little-endian 64-bit words in order, from @h = HVD_DIGEST_SEED (a
 * range digested in pieces gives the same value). Not cryptographic:
 * it tells a copy that went wrong from a right one.
 */
#define HVD_DIGEST_SEED 0x6876646972747931ull     /* "hvdirty1" */
#define HVD_DIGEST_MUL 0x9e3779b97f4a7c15ull      /* 2^64 / golden ratio */

static inline uint64_t hvd_digest_update(uint64_t h, const uint64_t *words,
					 uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		h = (h ^ words[i]) * HVD_DIGEST_MUL;
		h ^= h >> 29;
	}
	return h;
}

#endif
