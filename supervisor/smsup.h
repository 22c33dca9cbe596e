/*
 * smsup.h: the supervisor's and client's shared declarations: the structures
 * of machines, worker children, clients and upgrades, and each file's
 * exported functions (prefixed by the file's name).
 */
#ifndef SMSUP_H
#define SMSUP_H

#include <sys/queue.h>
#include <sys/types.h>

#include <getopt.h>
#include <limits.h>

#include <stdint.h>
#include <stdio.h>
#include <ev.h>

#include "buf.h"
#include "frame.h"
#include "image.h"

#define SMSUP_VERSION_STRING	"0.1.0"
#define SMSUP_START_TIMEOUT	10.0	/* seconds for a worker to be ready */
#define SMSUP_UPGRADE_TIMEOUT	5.0	/* seconds per upgrade phase */
#define SMSUP_STOP_TIMEOUT	10.0	/* seconds before SIGKILL on stop */
#define SMSUP_STEP_TIMEOUT	30.0	/* seconds a worker may owe an answer */
#define SMSUP_MAX_FROM		64	/* versions in migrates_from */
#define SMSUP_MAX_RESTARTS	32	/* largest R of --max-restarts R/T */

/* Exit statuses of the client. */
#define EXIT_FAIL	1	/* the request failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOSERVER	3	/* no supervisor answers */

#define SMSUP_HISTORY		20	/* upgrades remembered per machine */
#define SMSUP_UPGRADE_MAX	64	/* machines in one upgrade group */

/*
 * Backpressure (issue 7): a machine with this many inputs accepted and not
 * answered, or this many bytes of them waiting for its worker, holds the
 * clients that send it more until it is down to half; a client with this
 * many bytes of answers it has not read is read no more until half.
 */
#define MACHINE_BACKLOG_INPUTS	65536
#define MACHINE_BACKLOG_BYTES	(16u << 20)
#define CLIENT_BACKLOG_BYTES	(4u << 20)

/* UPGRADE request flags. */
#define UPGRADE_FORCE	0x1	/* upgrade even to the same version */
#define UPGRADE_WAIT	0x2	/* wait for a running upgrade, then go */
#define UPGRADE_DRY_RUN	0x4	/* rehearse it beside the worker (rehearse.c) */

/* Settings of one machine (smsup run options, opts.c). */
#define DURABILITY_NONE		0	/* memory only */
#define DURABILITY_BATCH	1	/* written at once, fsync'd every few ms */
#define DURABILITY_ALWAYS	2	/* fsync'd before it is acknowledged */
#define RESTART_PERMANENT	0	/* always restart */
#define RESTART_TRANSIENT	1	/* only after a crash */
#define RESTART_TEMPORARY	2	/* never */

#define OPT_TIMEOUT		0x001
#define OPT_PROBATION		0x002
#define OPT_IMAGE_MAX		0x004
#define OPT_SNAP_INPUTS		0x008
#define OPT_SNAP_MS		0x010
#define OPT_DURABILITY		0x020
#define OPT_RESTART		0x040
#define OPT_MAX_RESTARTS	0x080
#define OPT_FRESH		0x100
#define OPT_USER		0x200
#define OPT_GROUP		0x400
#define OPT_LIMIT_MEMORY	0x800
#define OPT_LIMIT_FILES		0x1000
#define OPT_LIMIT_CPU		0x2000
#define OPT_STEP_TIMEOUT	0x4000
#define OPT_SNAP_FORK		0x8000
#define OPT_INIT_ARG		0x10000
#define OPTS_MACHINE	"TPMNIDRXFUGAOCWKg"	/* their opts_long codes */
#define OPTS_NAME_MAX	32		/* user and group names */
#define OPTS_ARG_MAX	1024		/* bytes of an init argument */

struct machine_opts {
	double		 upgrade_timeout;	/* seconds, per phase */
	double		 probation;		/* seconds; 0: none */
	uint64_t	 image_max;		/* bytes of state image */
	uint32_t	 snap_inputs;		/* snapshot every N inputs */
	uint32_t	 snap_ms;		/* or every T ms; 0: never */
	int		 durability;
	int		 restart;
	uint32_t	 max_restarts;		/* R restarts ... */
	double		 restart_window;	/* ... in T seconds */
	int		 fresh;			/* forget the saved state */
	char		 user[OPTS_NAME_MAX + 1];	/* run as; "": ours */
	char		 group[OPTS_NAME_MAX + 1];
	uint64_t	 limit_memory;		/* RLIMIT_AS bytes; 0: none */
	uint64_t	 limit_files;		/* RLIMIT_NOFILE */
	uint64_t	 limit_cpu;		/* RLIMIT_CPU seconds */
	double		 step_timeout;		/* seconds; 0: none */
	int		 snap_fork;		/* snapshots by fork */
	int		 has_init_arg;		/* init_arg given */
	char		 init_arg[OPTS_ARG_MAX + 1];	/* for init (a text) */
};

/* One upgrade, as `smsup history` shows it. */
struct upgrade_record {
	int64_t		 when;		/* wall clock, seconds */
	int		 ok;
	char		*text;
};

/* peer.c: a framed, non-blocking stream socket on the default loop. */
struct peer;
typedef void	peer_dispatch_cb(struct peer *, const struct frame *, void *);
typedef void	peer_lost_cb(struct peer *, const char *, void *);
typedef void	peer_stop_cb(struct peer *, const char *, int, void *);

struct peer	*peer_new(int, const struct frame_limits *, peer_dispatch_cb *,
		    peer_lost_cb *, void *);
void		 peer_free(struct peer *);
struct buf	*peer_wbuf(struct peer *);
void		 peer_kick(struct peer *);
void		 peer_flush_dirty(void);
int		 peer_send(struct peer *, uint8_t, uint64_t, const void *,
		    size_t);
void		 peer_drain(struct peer *);
void		 peer_finish(struct peer *);
void		 peer_set_stop(struct peer *, peer_stop_cb *);
void		 peer_stop(struct peer *);
void		 peer_flush_now(struct peer *);
void		 peer_hold(struct peer *, int);
void		 peer_set_out_high(struct peer *, size_t);
void		 peer_set_budget(struct peer *);
void		 peer_defer(struct peer *);
int		 peer_malformed(const struct peer *);
int		 peer_fd(struct peer *);
void		 peer_pass_fds(struct peer *);
void		 peer_give_fds(struct peer *);
int		 peer_takes_fds(const struct peer *);
int		 peer_send_fd(struct peer *, uint8_t, uint64_t, const void *,
		    size_t, int);
int		 peer_take_fd(struct peer *, struct frame *);

/* base.c: a machine's restart base, in memory or in a sealed memfd. */
struct machine;
struct child;
void		 base_init(struct machine *);
size_t		 base_len(const struct machine *);
void		 base_clear(struct machine *);
void		 base_free(struct machine *);
int		 base_set_bytes(struct machine *, const uint8_t *, size_t);
int		 base_set_fd(struct machine *, int, size_t);
int		 base_set_file(struct machine *, int, uint64_t, size_t);
int		 base_fd_valid(int, uint64_t);
const uint8_t	*base_map(const struct machine *, size_t *);
void		 base_unmap(const struct machine *, const uint8_t *, size_t);
int		 base_header(const struct machine *, struct image *);
int		 base_store(struct machine *, uint64_t);
int		 base_send_load(struct machine *, struct child *);

/* queue.c: a ring of pending entries (who waits for what). */
struct client;
struct pending {
	struct client	*client;	/* NULL: nobody waits for an answer */
	uint64_t	 id;		/* the client's request id */
	uint64_t	 seq;		/* per-machine input sequence number */
};

struct pqueue {
	struct pending	*v;
	size_t		 head;
	size_t		 n;
	size_t		 cap;
};

int		 queue_push(struct pqueue *, const struct pending *);
struct pending	*queue_head(struct pqueue *);
struct pending	*queue_at(struct pqueue *, size_t);
void		 queue_pop(struct pqueue *);
void		 queue_unpush(struct pqueue *);
void		 queue_remove(struct pqueue *, size_t);
void		 queue_free(struct pqueue *);

/* child.c: one worker process and its channel. */
struct child;
struct progress_page;
typedef void	child_frame_cb(struct child *, const struct frame *);
typedef void	child_gone_cb(struct child *, const char *);

struct child {
	pid_t		 pid;
	struct peer	*peer;
	ev_child	 cw;
	int		 exited;
	int		 status;
	int		 hello;		/* HELLO received */
	uint32_t	 caps;		/* HELLO_CAP_* it said it has */
	int		 snapfd;	/* the SNAPFILE it holds (snapfork.c) */
	int		 busy;		/* draining at exit: do not free */
	uint64_t	 crash_seq;	/* input it died in (CRASH), or 0 */
	char		 crash[64];	/* what the CRASH frame said */
	char		 broke[64];	/* how its channel broke, or "" */
	char		 killed[128];	/* why we killed it, or "" */
	char		 last[200];	/* its last line of output, or "" */
	const struct progress_page *progress;	/* shared with it, or NULL */
	struct child_out	*out;	/* its stdout and stderr, logged */
	char		 type[SMSUP_NAME_MAX + 1];	/* the binary's name */
	char		 version[SMSUP_VERSION_MAX + 1];
	char		 format[SMSUP_FORMAT_MAX + 1];
	char		 fields[1024];	/* names of the state's fields */
	char		(*from)[SMSUP_VERSION_MAX + 1];	/* migrates_from */
	uint32_t	 nfrom;
	uint64_t	 started;	/* monotonic ns */
	child_frame_cb	*frame;
	child_gone_cb	*gone;
	void		*arg;
};

struct child	*child_spawn(const char *, const char *,
		    const struct machine_opts *, child_frame_cb *,
		    child_gone_cb *, void *, char *, size_t);
void		 child_kill(struct child *);
void		 child_kill_why(struct child *, const char *);
int		 child_progress(const struct child *, uint64_t *);
void		 child_retire(struct child *);
int		 child_accepts(const struct child *, const char *);
const char	*child_accepted(const struct child *, char *, size_t);
int		 child_hello(struct child *, const struct frame *, char *,
		    size_t);
void		 child_describe_exit(int, char *, size_t);
uint64_t	 child_rss(const struct child *);

/* child-exec.c: starting a worker process. */
int		 child_exec(pid_t *, int, const char *, char **, char **, int,
		    int, int, const struct machine_opts *, char *, size_t);

/* machine.c: machines, their lifecycle and their inputs. */
enum machine_state {
	MS_STARTING,	/* worker spawned, not ready */
	MS_RUNNING,	/* serving (an upgrade may be spawning its successor) */
	MS_STOPPING,	/* finishing its inputs before exit */
	MS_RESTARTING,	/* crashed: a new worker starts after a backoff */
	MS_FAILED,	/* no worker; callers get errors */
};

/* A SERIALIZE the worker owes an answer to (serial.c). */
enum serial_kind {
	SER_QUERY,	/* smsup state: the head of m->queries */
	SER_UPGRADE,	/* the image an upgrade moves */
	SER_STOP,	/* the final snapshot of a machine that stops */
	SER_SNAPSHOT,	/* a snapshot the supervisor asked for */
	SER_REHEARSE,	/* one an upgrade --dry-run starts from */
	SER_ABANDONED,	/* nobody wants it any more: dropped */
};
struct serial_req {
	uint64_t	 token;		/* its id, echoed by the answer */
	uint64_t	 seq;		/* the last input given before it */
	int		 kind;
};

struct upgrade;
struct machine {
	TAILQ_ENTRY(machine)	 entry;
	char			 name[SMSUP_NAME_MAX + 1];
	char			*path;
	enum machine_state	 state;
	struct child		*worker;
	int			 ready;		/* worker answered READY */
	int			 suspended;	/* inputs are held */
	struct upgrade		*upgrade;
	int			 upgrade_again;	/* SIGHUP during an upgrade */
	char			*again_path;	/* to that binary, or NULL */

	struct pqueue		 pending;	/* accepted, unanswered */
	size_t			 forwarded;	/* of those, sent to worker */
	struct buf		 held;		/* INPUT frames not sent */
	size_t			 nheld;
	uint64_t		 next_seq;

	struct pqueue		 waiters;	/* run/stop requests */
	struct pqueue		 durable;	/* sends acked once on disk */
	size_t			 undurable;	/* always: last ones not yet */
	void			*replies;	/* errors waiting for the store */
	size_t			 nreplies;
	ev_timer		 timer;		/* start and stop timeouts */

	char			 version[SMSUP_VERSION_MAX + 1];
	char			 type[SMSUP_NAME_MAX + 1];
	char			 why[512];	/* why it failed */
	uint64_t		 inputs;	/* applied */
	uint64_t		 errors;	/* answered with an error */
	uint64_t		 dropped;	/* their worker died in them */
	uint64_t		 upgrades;
	uint64_t		 last_pause;	/* ns; 0 with no upgrade */
	uint64_t		 since;		/* worker start, monotonic ns */
	uint64_t		 discard;	/* replayed: answers to drop */
	uint64_t		 discard_last;	/* the last of those answered */
	uint64_t		 careful_until;	/* one at a time up to it */
	uint64_t		 applied_seq;	/* last input answered */

	/* Its way back (recover.c): snapshot + the inputs since. */
	struct buf		 snapshot;	/* state image; empty: init */
	int			 snap_fd;	/* or in this memfd or file */
	uint64_t		 snap_off;	/* at this offset (base.c) */
	size_t			 snap_len;	/* its length */
	uint64_t		 snap_seq;	/* last input in the snapshot */
	struct buf		 journal;	/* INPUT frames after it */
	struct store		*store;		/* on disk; NULL: memory */
	TAILQ_ENTRY(machine)	 persist_entry;	/* in machine_persisting */
	int			 persist_queued;
	int			 base_unsaved;	/* snapshot not yet on disk */
	uint64_t		 persisted_at;	/* last snapshot on disk */
	unsigned		 restarts;
	uint64_t		 rtimes[SMSUP_MAX_RESTARTS];
	unsigned		 nrestarts;	/* in this budget */
	unsigned		 start_fails;	/* in a row, never caught up */
	unsigned		 replay_drops;	/* inputs dropped replaying */
	uint64_t		 proven_seq;	/* last input a worker answered */
	char			 last_crash[512];

	struct machine_opts	 opts;
	struct upgrade_record	*hist;		/* SMSUP_HISTORY, on first use */
	unsigned		 nhist;		/* records ever made */

	/* Looking inside (inspect.c). */
	struct pqueue		 queries;	/* `smsup state`: seq 1 if it
						   shares the image before */
	size_t			 queries_sent;	/* of those, sent to worker */
	size_t			 query_images;	/* SERIALIZEs they wait for */
	uint64_t		 query_given;	/* last input before the last */
	int			 ntracers;	/* traces of this machine */
	int			 ntracers_state; /* of those, with states */
	struct buf		 trace_in;	/* inputs awaiting answers */
	struct buf		 trace_ev;	/* an answer awaiting its state */
	uint64_t		 trace_ev_seq;	/* its input; 0: none */
	size_t			 trace_ev_cut;	/* where its image starts */
	int			 from_conf;	/* started from smsup.conf */
	int			 clustered;	/* a cluster's: never failed by
						   its restarts (recover.c) */
	uint64_t		 strike_seq;	/* clustered: the input its
						   worker died in once */
	struct pqueue		 producers;	/* clients held: backlog */

	/* SERIALIZE requests its worker owes (serial.c). */
	struct serial_req	*serial;
	size_t			 serial_head, nserial, serial_cap;
	uint64_t		 serial_token;

	/* Snapshots asked for when its journal grows (backlog.c). */
	ev_tstamp		 snap_asked;
	char			 snap_failed[128];	/* why the last failed */
	int			 snapfork_off;	/* no O_TMPFILE there */
	uint64_t		 snapforks;	/* written by a child */
	uint64_t		 snapfork_fails;
	uint64_t		 snapfork_ns;	/* the last one took */

	/* How long its worker may owe an answer (deadline.c). */
	ev_timer		 step_timer;
	ev_tstamp		 progress_at;	/* its last answer */
};
TAILQ_HEAD(machines, machine);
extern struct machines	 machines;

/* A machine's state given whole (a cluster's snapshot). */
struct machine_given {
	const uint8_t	*base;		/* its image; base_len 0: init */
	size_t		 base_len;
	uint64_t	 snap_seq;	/* the last input in the image */
	const uint8_t	*journal;	/* INPUT frames after it */
	size_t		 journal_len;
	uint64_t	 last;		/* the last input given */
};

struct machine	*machine_find(const char *);
struct machine	*machine_start_given(const char *, const char *,
		    const struct machine_opts *, const struct machine_given *,
		    char *, size_t);
void		 machine_discard(struct machine *, const char *);
struct machine	*machine_start(const char *, const char *,
		    const struct machine_opts *, char *, size_t);
int		 machine_restart(struct machine *, char *, size_t);
int		 machine_input(struct machine *, struct client *, uint64_t,
		    const void *, size_t, char *, size_t);
void		 machine_wait(struct machine *, struct client *, uint64_t);
int		 machine_stop(struct machine *, struct client *, uint64_t,
		    char *, size_t);
void		 machine_flush(struct machine *);
void		 machine_adopt(struct machine *, struct child *);
void		 machine_worker_frame(struct child *, const struct frame *);
void		 machine_worker_gone(struct child *, const char *);
const char	*machine_state_name(const struct machine *);
void		 machine_schedule_restart(struct machine *, double);
void		 machine_worker_broken(struct machine *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* snapfork.c: snapshots written by a child of the worker. */
int		 snapfork_wanted(const struct machine *, const struct child *);
void		 snapfork_offer(struct machine *);
void		 snapfork_frame(struct machine *, struct child *,
		    const struct frame *);

/* status.c: one row of `smsup status`, both ends. */
#define STATUS_DETAIL	0x1	/* STATUS flag: read workers' memory */

struct status_row {
	char		 name[SMSUP_NAME_MAX + 1];
	char		 version[SMSUP_VERSION_MAX + 1];
	uint32_t	 pid;
	char		 state[32];
	uint64_t	 inputs, held, inflight, uptime, upgrades, pause, errors;
	char		 path[PATH_MAX];
	char		 why[512];
	char		 last[1024];
	uint64_t	 restarts;
	char		 crash[512];
	char		 degraded[256];
	char		 durability[16];
	char		 type[SMSUP_NAME_MAX + 1];
	char		 format[SMSUP_FORMAT_MAX + 1];
	char		 fields[1024];
	uint64_t	 rss;
	char		 restart[16];
	uint32_t	 last_ok;
	uint64_t	 last_when;
	char		 note[512];
	uint64_t	 dropped;
	uint32_t	 step_ms;
	uint32_t	 fork;		/* STATUS_FORK_* */
	uint64_t	 forks, fork_fails, fork_ns;
	uint32_t	 has_init_arg;
	char		 init_arg[OPTS_ARG_MAX + 1];
};
#define STATUS_FORK_OFF		0	/* --snapshot-fork no, or no store */
#define STATUS_FORK_ON		1
#define STATUS_FORK_CANNOT	2	/* the worker or directory cannot */

struct msg_reader;
void		 status_row_put(struct machine *, struct buf *, uint32_t);
int		 status_row_get(struct msg_reader *, struct status_row *);

/* persist.c: what the store must have before anyone is told. */
void		 machine_persist_later(struct machine *);
void		 machine_persist_all(void);
int		 machine_ack_durable(struct machine *, struct client *,
		    uint64_t);
void		 machine_tell(struct machine *, struct client *, uint64_t,
		    const char *);
void		 persist_open(struct machine *);
void		 persist_close(struct machine *);

void		 machine_fail(struct machine *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* serial.c: the serialize requests a worker owes. */
uint64_t	 serial_last_given(struct machine *);
int		 serial_request(struct machine *, int);
int		 serial_pending(const struct machine *, int);
void		 serial_abandon(struct machine *, int);
void		 serial_reset(struct machine *);
void		 serial_free(struct machine *);
int		 serial_frame(struct machine *, const struct frame *);

/* deadline.c: --step-timeout. */
void		 deadline_init(struct machine *);
void		 deadline_owed(struct machine *);
void		 deadline_progress(struct machine *);
void		 deadline_stop(struct machine *);

/* backlog.c: backpressure, and the bounds of what we hold. */
int		 backlog_full(struct machine *);
void		 backlog_throttle(struct machine *, struct client *);
void		 backlog_release(struct machine *, int);
int		 backlog_admit(struct machine *, char *, size_t);
size_t		 backlog_journal_max(const struct machine *);
void		 backlog_trimmed(struct machine *);

/* recover.c: snapshot + journal = state; restarts after crashes. */
int		 recover_journal_add(struct machine *, const uint8_t *, size_t);
void		 recover_strike(struct machine *, uint64_t, uint64_t);
void		 recover_snapshot(struct machine *, uint64_t, const uint8_t *,
		    size_t);
void		 recover_base(struct machine *, uint64_t, const uint8_t *,
		    size_t, int, int);
void		 recover_config(struct machine *, struct child *);
void		 recover_trim(struct machine *, uint64_t);
int		 recover_start(struct machine *, struct child *, char *, size_t);
void		 recover_replay(struct machine *);
void		 recover_persist_base(struct machine *);
void		 recover_crashed(struct machine *, struct child *, const char *,
		    int);
uint64_t	 recover_suspect(struct machine *, struct child *, uint64_t *);
void		 recover_caught_up(struct machine *);
void		 recover_drip(struct machine *);
void		 recover_drop(struct machine *, uint64_t, const char *,
		    const char *);
size_t		 recover_release(struct machine *, const char *, int);
void		 recover_unaccept(struct machine *, size_t, const char *);
size_t		 recover_tail(const struct buf *, size_t);
void		 recover_asked_snapshot(struct machine *, uint64_t,
		    const struct frame *);

/* store.c: the state directory. */
#define STORE_DONE	1	/* on disk (with always: synced) */
#define STORE_CUT	-1	/* failed; surely not on disk */
#define STORE_LOST	-2	/* failed; perhaps on disk */
struct store;
typedef void	store_retry_cb(void *);
int		 store_root_path(const char *, char *, size_t);
int		 store_lock(const char *, char *, size_t);
void		 store_lock_pid(void);
void		 store_unlock(void);
const char	*store_root_dir(void);
struct store	*store_open(const char *, int, char *, size_t);
void		 store_set_retry(struct store *, store_retry_cb *, void *);
void		 store_close(struct store *);
int		 store_aside(const char *, char *, size_t);
/* A loaded snapshot's image, left in its file (fd -1: none there). */
struct store_image {
	int		 fd;
	uint64_t	 off;
	size_t		 len;
};
int		 store_load(struct store *, struct buf *, struct store_image *,
		    uint64_t *, struct buf *, uint64_t *, char *, size_t);
void		 store_append(struct store *, const uint8_t *, size_t);
void		 store_strike(struct store *, uint64_t);
int		 store_flush(struct store *);
int		 store_snapshot(struct store *, uint64_t, const void *, size_t,
		    const struct buf *);
int		 store_snapshot_fd(struct store *, uint64_t, int, uint64_t,
		    size_t, const struct buf *);
int		 store_snapfile(struct store *);
int		 store_snapshot_file(struct store *, uint64_t, int, size_t,
		    uint32_t, const struct buf *);
int		 store_get_init_arg(struct store *, char *, size_t);
int		 store_put_init_arg(struct store *, const char *);
void		 store_snapshot_failed(struct store *, const char *);
void		 store_dropped(struct store *, uint64_t, const char *,
		    const void *, size_t);
void		 store_vis(struct buf *, const uint8_t *, size_t);
const char	*store_degraded(const struct store *);
const char	*store_note(const struct store *);
int		 store_healthy(const struct store *);
int		 machine_count(void);

/* config.c: smsup.conf(5). */
#define CONF_MACHINES_MAX	10000
struct conf_machine {
	char			 name[SMSUP_NAME_MAX + 1];
	char			 path[PATH_MAX];
	struct machine_opts	 opts;
	uint32_t		 set;
	int			 line;
};
/* A setting of smsup.conf's cluster block: a `run` cluster option. */
struct conf_cluster {
	int			 code;		/* OPT_CODE_* */
	char			 value[128];
	int			 line;
};
#define CONF_CLUSTER_MAX	16

struct conf {
	char			 socket[PATH_MAX];	/* "": not set */
	char			 state_dir[PATH_MAX];
	struct conf_cluster	 cl[CONF_CLUSTER_MAX];
	int			 ncl;
	int			 cluster;		/* a cluster block */
	int			 cluster_line;		/* where it begins */
	struct conf_machine	*m;
	int			 n;
};
int		 conf_parse(const char *, size_t, const char *, const char *,
		    struct conf *, char *, size_t);
int		 conf_load(const char *, struct conf *, char *, size_t);
int		 conf_check_binaries(const struct conf *, const char *, char *,
		    size_t);
void		 conf_free(struct conf *);

/* notify.c: systemd's notify protocol. */
void		 notify_init(void);
void		 notify_changed(void);
void		 notify_reloading(void);
void		 notify_stopping(void);
void		 notify_check(void);

/* server-conf.c: the configuration file at start and on SIGHUP. */
void		 server_conf_set(const char *);
void		 server_conf_apply(const struct conf *);
int		 server_conf_reload(void);

/* cluster-opts.c: a node's settings (getopt codes of its run options). */
#define OPT_CODE_NODE		1001	/* --node ID=HOST:PORT */
#define OPT_CODE_PEER		1002	/* --peer ID=HOST:PORT */
#define OPT_CODE_ELECTION	1003	/* --election-timeout seconds */
#define OPT_CODE_LOG_SNAPSHOT	1004	/* --log-snapshot entries */
#define OPT_CODE_JOIN		1005	/* --join */
int		 cluster_opts_option(int, const char *, char *, size_t);
struct conf_cluster;
int		 cluster_opts_check_conf(const struct conf_cluster *, int, int,
		    char *, size_t);
int		 cluster_opts_check(char *, size_t);
struct cluster_node_conf;
struct cluster_peer;
struct cluster_node_conf *cluster_opts_conf(void);
int		 cluster_opts_spec(const char *, struct cluster_peer *, char *,
		    size_t);
int		 cluster_opts_can_listen(const char *, char *, size_t);
int		 cluster_opts_try_listen(char *, size_t);

/* cluster-server.c: the supervisor as a node of a cluster. */
int		 cluster_server_start(char *, size_t);
void		 cluster_server_stop(void);
int		 cluster_server_active(void);
int		 cluster_server_leads(struct client *, uint64_t);
void		 cluster_server_input(struct client *, uint64_t, int,
		    const char *, const void *, size_t);
void		 cluster_server_run(struct client *, uint64_t, const char *,
		    const char *);
void		 cluster_server_stop_machine(struct client *, uint64_t,
		    const char *);
int		 cluster_server_request(struct client *, const struct frame *);
#define CLUSTER_OP_STATUS	0	/* C_CLUSTER: empty, or u32 op */
#define CLUSTER_OP_ADD		1	/* u64 id, str address */
#define CLUSTER_OP_REMOVE	2	/* u64 id */

/* opts.c */
struct msg_reader;
extern const struct option opts_long[];
void		 opts_default(struct machine_opts *);
int		 opts_parse(int, const char *, struct machine_opts *, uint32_t *,
		    char *, size_t);
const char	*opts_name(int);
const char	*opts_durability_name(int);
const char	*opts_restart_name(int);
void		 opts_encode(struct buf *, const struct machine_opts *,
		    uint32_t);
int		 opts_decode(struct msg_reader *, struct machine_opts *);

/* upgrade.c: replacing machines' workers without losing an input. */
struct upgrade_spec {
	char		 name[SMSUP_NAME_MAX + 1];
	char		 path[PATH_MAX];	/* "": the machine's own */
};
int		 upgrade_request(const struct upgrade_spec *, int, uint32_t,
		    double, double, const char *, struct client *, uint64_t,
		    char *, size_t);
/* rehearse.c: upgrade --dry-run. */
int		 rehearse_start(struct machine *, const char *, const char *,
		    double, struct client *, uint64_t, char *, size_t);
void		 rehearse_machine_gone(struct machine *);
void		 rehearse_snapshot(struct machine *, const struct frame *);
void		 upgrade_hup(void);
void		 upgrade_hup_one(struct machine *, const char *);
void		 upgrade_old_image(struct machine *, const struct frame *);
void		 upgrade_forwarded(struct machine *, const void *, size_t);
void		 upgrade_answered(struct machine *);
int		 upgrade_rescue(struct machine *, struct child *, const char *);
void		 upgrade_abort(struct machine *, const char *);
void		 upgrade_cancel(struct machine *, const char *);
const char	*upgrade_phase_name(const struct machine *);

/* inspect.c: state queries and traces. */
#define TRACE_INPUT	1	/* an answered input */
#define TRACE_NOTE	2	/* an upgrade, a restart... */
#define TRACE_END	3	/* the machine is gone: the trace ends */
#define TRACE_NO_STATE	0x1	/* TRACE request flag */
void		 inspect_flush(struct machine *);
void		 inspect_answer_query(struct machine *, const struct frame *);
int		 inspect_query(struct machine *, struct client *, uint64_t,
		    char *, size_t);
void		 inspect_worker_lost(struct machine *, const char *);
void		 inspect_queries_fail(struct machine *, const char *);
int		 inspect_line(const uint8_t *, size_t, struct buf *);
void		 inspect_event(struct buf *, struct machine *, uint32_t,
		    uint64_t, const char *, const void *, size_t, int,
		    const void *, size_t, const void *, size_t);
void		 inspect_note(struct machine *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 inspect_input(struct machine *, struct client *, int,
		    uint64_t, const void *, size_t);
void		 inspect_answer(struct machine *, const struct frame *);
void		 inspect_state(struct machine *, const struct frame *);
int		 inspect_trace(struct machine *, struct client *, uint64_t,
		    int);
void		 inspect_foreground_on(void);
void		 inspect_machine_new(struct machine *);
void		 inspect_client_gone(struct client *);
void		 inspect_machine_gone(struct machine *, const char *);
int		 inspect_worker_frame(struct machine *, const struct frame *);

/* upgrade-report.c: what upgrades did, for people. */
void		 upgrade_report_add(struct machine *, int, const char *);
const struct upgrade_record *upgrade_report_last(const struct machine *);
void		 upgrade_report_rows(const struct machine *, struct buf *);
void		 upgrade_report_free(struct machine *);

/* server.c: the supervisor process. */
extern int	 server_shutting_down;
int		 server_listen(const char *, int *, char *, size_t);
int		 server_loop(int, int, const char *, char **, char **, int,
		    const struct machine_opts *, const struct conf *);
void		 server_shutdown(void);
void		 server_machine_gone(void);
void		 server_client_left(void);
extern int	 server_nclients;

/* server-client.c: one connected client. */
extern size_t	 server_input_max;	/* run --max-input: request cap */
struct client	*server_client_new(int);
void		 server_client_flush_all(void);
void		 server_client_ref(struct client *);
void		 server_client_unref(struct client *);
void		 server_client_reply(struct client *, uint8_t, uint64_t,
		    const void *, size_t);
int		 server_client_takes_fds(const struct client *);
int		 server_client_reply_fd(struct client *, uint8_t, uint64_t,
		    const void *, size_t, int);
void		 server_client_replyf(struct client *, uint8_t, uint64_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
pid_t		 server_client_pid(const struct client *);
void		 server_client_hold(struct client *, int);
size_t		 server_client_backlog(const struct client *);

/* client.c: the client side of the control socket. */
struct reply {
	uint8_t		 type;
	uint64_t	 id;
	uint8_t		*data;
	size_t		 len;
	int		 fd;	/* came with it (R_STATE_FD), or -1 */
};
extern double	 client_timeout;
int		 client_connect(const char *);
void		 client_set_timeout(int);
int		 client_timed_out(const char *);
int		 client_send(int, uint8_t, uint64_t, const struct buf *);
int		 client_recv(int, struct buf *, struct reply *);
int		 client_request(int, uint8_t, const struct buf *, struct buf *,
		    struct reply *);
int		 client_error(const struct reply *);
int		 client_open(const char *);
int		 client_ask(const char *, uint8_t, const struct buf *, struct buf *,
		    struct reply *, uint8_t);
int		 client_simple(const char *, uint8_t, const struct buf *);

/* cmd-state.c: an image printed as JSON (or raw), for cmd-upgrade.c too. */
const uint8_t	*cmd_state_map(int, uint64_t);
int		 cmd_state_out(const char *, const uint8_t *, size_t,
		    const char *, int, int);

/* remote.c: -H ssh://host: the command runs on another host. */
int		 remote_exec(const char *, const char *, int, char **);

/* paths.c: where things are. */
extern int	 paths_socket_given;	/* -S or $SMSUP_SOCKET */
int		 paths_socket(const char *, char *, size_t);
const char	*paths_tmpdir(void);
int		 paths_spec(const char *, char *, size_t, char *, size_t, char *,
		    size_t);
int		 paths_absolute(const char *, char *, size_t);
int		 paths_check_binary(const char *, char *, size_t);
int		 paths_open_binary(const char *, char *, size_t);
int		 paths_open_state_dir(const char *, char *, size_t);
int		 paths_open_private(const char *, int, char *, size_t);
int		 paths_open_config(const char *, char *, size_t);

/* units.c: time and its display. */
uint64_t	 units_now(void);
void		 units_duration(uint64_t, char *, size_t);
void		 units_age(uint64_t, char *, size_t);
int		 units_parse_seconds(const char *, double, double *);
int		 units_parse_size(const char *, uint64_t *);

/* log.c */
#define LOG_LEVEL_WARN	0	/* -q: warnings and errors */
#define LOG_LEVEL_INFO	1	/* the default: and what happens */
#define LOG_LEVEL_DEBUG	2	/* -vv: and the details */
void		 log_init(int);
int		 log_get_level(void);
void		 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void		 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* cmd.c and cmd-*.c: the commands of the command line. */
struct cmd_entry {
	const char	*name;
	const char	*usage;
	int		(*exec)(const char *, int, char **);
};
extern const struct cmd_entry	 cmd_run_entry, cmd_call_entry,
				 cmd_send_entry, cmd_status_entry,
				 cmd_upgrade_entry, cmd_stop_entry,
				 cmd_shutdown_entry, cmd_history_entry,
				 cmd_restart_entry, cmd_state_entry,
				 cmd_trace_entry, cmd_check_config_entry,
				 cmd_cluster_entry;
const struct cmd_entry	*cmd_find(const char *);
void			 cmd_usage_all(FILE *);
int			 cmd_usage(const struct cmd_entry *);

#endif
