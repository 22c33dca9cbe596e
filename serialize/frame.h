/*
 * frame.h: the frame that carries every message between smsup processes
 * (client <-> supervisor and supervisor <-> worker).
 *
 * A frame is a 16-byte little-endian header followed by len payload bytes:
 *
 *	u32 len | u8 version | u8 type | u16 flags | u64 id | payload[len]
 *
 * version is SMSUP_PROTOCOL_VERSION; a peer speaking another version is
 * refused. Types are numbered in blocks by direction (see enum frame_type).
 */
#ifndef SMSUP_FRAME_H
#define SMSUP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SMSUP_PROTOCOL_VERSION	1
#define FRAME_HDR_LEN		16
#define FRAME_MAX_DEFAULT	(16u << 20)	/* 16 MiB: inputs, outputs, control */
#define FRAME_IMAGE_MAX_DEFAULT	(2048u << 20)	/* 2 GiB: state images */

enum frame_type {
	/* worker -> supervisor */
	FRAME_W_HELLO = 0x10,	/* name, version, format, migrates_from */
	FRAME_W_READY,		/* state in place: serving */
	FRAME_W_FAIL,		/* init, load, migrate or serialize failed: text */
	FRAME_W_OUTPUT,		/* id = input seq; payload = output bytes */
	FRAME_W_ERROR,		/* id = input seq; payload = error text */
	FRAME_W_IMAGE,		/* payload = state image */
	FRAME_W_CRASH,		/* id = seq of the input it died in; text */
	FRAME_W_SNAPSHOT,	/* id = seq of the last input applied; image */
	FRAME_W_STATE,		/* id = input seq; image after it (traced) */
	FRAME_W_IMAGE_FD,	/* as IMAGE; u64 length; the image is in the
				   sealed memfd passed with it (SCM_RIGHTS) */
	FRAME_W_SNAPSHOT_FILE,	/* id = seq; u64 length, u32 CRC-32C: a
				   snapshot child wrote the SNAPFILE */
	FRAME_W_SNAPSHOT_FAIL,	/* id = seq; text: the child failed */

	/* supervisor -> worker */
	FRAME_S_INIT = 0x20,	/* start from init() */
	FRAME_S_LOAD,		/* start from this state image (migrating it) */
	FRAME_S_INPUT,		/* id = seq; payload = input bytes */
	FRAME_S_SERIALIZE,	/* u64 cap: answer with W_IMAGE or W_FAIL */
	FRAME_S_STOP,		/* finish what you have, then exit 0 */
	FRAME_S_CONFIG,		/* u32 snapshot inputs, u32 ms, u64 image cap,
				   u32 flags (CONFIG_TRACE_STATE) */
	FRAME_S_LOAD_FD,	/* as LOAD; u64 offset, u64 length of the image
				   in the descriptor passed with it */
	FRAME_S_SNAPFILE,	/* u64 offset: the file passed with it takes
				   the next snapshot, by a child of the worker */
	FRAME_S_ARG,		/* id = ARG_INIT or ARG_EXTRA; payload = text
				   for the INIT or LOAD that follows */

	/* client -> supervisor */
	FRAME_C_CALL = 0x40,	/* name, input: answered by R_OUTPUT or R_ERROR */
	FRAME_C_SEND,		/* name, input: answered by R_ACCEPTED or R_ERROR */
	FRAME_C_STATUS,		/* names... : R_STATUS */
	FRAME_C_RUN,		/* name, path, options: R_OK once ready */
	FRAME_C_UPGRADE,	/* flags, timeouts, (name, path)...: R_OK, report */
	FRAME_C_STOP,		/* name: R_OK once the worker has exited */
	FRAME_C_SHUTDOWN,	/* R_OK, then the supervisor exits */
	FRAME_C_HISTORY,	/* name: R_HISTORY */
	FRAME_C_RESTART,	/* name: R_OK once ready again */
	FRAME_C_STATE,		/* name[, u32 flags]: R_STATE or R_STATE_FD */
	FRAME_C_TRACE,		/* name, u32 flags: R_OK, then R_TRACE... */
	FRAME_C_CLUSTER,	/* (nothing): R_CLUSTER */

	/* supervisor -> client */
	FRAME_R_OK = 0x60,	/* text */
	FRAME_R_OUTPUT,		/* output bytes */
	FRAME_R_ERROR,		/* error text */
	FRAME_R_ACCEPTED,	/* the input is accepted and will be applied */
	FRAME_R_STATUS,		/* rows */
	FRAME_R_HISTORY,	/* the last upgrades */
	FRAME_R_STATE,		/* str fields, state image */
	FRAME_R_TRACE,		/* one event of a traced machine */
	FRAME_R_STATE_FD,	/* str fields, u64 length: the state image is
				   in the sealed memfd passed with it */
	FRAME_R_DRYRUN,		/* u32 ok, str report, str fields, image */
	FRAME_R_DRYRUN_FD,	/* u32 ok, str report, str fields, u64 length:
				   the image in the memfd passed with it */
	FRAME_R_CLUSTER,	/* raft's view of the cluster (cluster-server.c) */
};

#define CONFIG_TRACE_STATE	0x1	/* W_STATE after every input */
#define CONFIG_FORK		0x2	/* snapshots by fork, into SNAPFILEs */
#define HELLO_CAP_FD		0x1	/* takes and gives images by descriptor */
#define HELLO_CAP_FORK		0x2	/* snapshots by fork (CONFIG_FORK) */
#define HELLO_CAP_ARG		0x4	/* takes S_ARG */
#define ARG_INIT		1	/* S_ARG: init's argument (--init-arg) */
#define ARG_EXTRA		2	/* S_ARG: migrate's extra (--extra) */
#define SERIALIZE_FD		0x1	/* an image may come as W_IMAGE_FD */
#define STATE_TAKES_FD		0x1	/* C_STATE: R_STATE_FD welcome */

/* Size caps: state images (LOAD, IMAGE) get their own, larger one. */
struct frame_limits {
	size_t		 max;
	size_t		 image_max;
};

struct frame {
	uint32_t	 len;
	uint8_t		 version;
	uint8_t		 type;
	uint16_t	 flags;
	uint64_t	 id;
	const uint8_t	*payload;
	int		 fd;	/* a descriptor that came with it, or -1 */
};

/* frame_parse results (negative values are errors). */
#define FRAME_OK		 1
#define FRAME_MORE		 0
#define FRAME_EVERSION		-1
#define FRAME_ETOOBIG		-2

int		 frame_parse(const uint8_t *, size_t, const struct frame_limits *,
		     struct frame *);
size_t		 frame_begin(struct buf *, uint8_t, uint16_t, uint64_t);
int		 frame_end(struct buf *, size_t);
void		 frame_abort(struct buf *, size_t);
int		 frame_put(struct buf *, uint8_t, uint64_t, const void *,
		     size_t);
const char	*frame_strerror(int);
const char	*frame_type_name(uint8_t);
int		 frame_has_fd(uint8_t);

#endif
