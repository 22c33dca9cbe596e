/* worker-int.h: internals shared by the files of the worker library. */
#ifndef SMSUP_WORKER_INT_H
#define SMSUP_WORKER_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "smsup/worker.h"
#include "buf.h"

struct smsup_output {
	struct buf	*b;
	size_t		 start;
	size_t		 max;
	int		 overflow;
};

/* chan.c: the channel to the supervisor, with descriptors. */
#define CHAN_FDS_MAX	8	/* as FDPASS_MAX */
struct chan {
	int		 fd;
	int		 in[CHAN_FDS_MAX];	/* received, not yet taken */
	int		 nin;
	struct {
		uint64_t at;			/* offset of its frame */
		int	 fd;
	}		 out[CHAN_FDS_MAX];	/* to go with their frames */
	int		 nout;
	uint64_t	 done;			/* bytes written, ever */
};
void		 chan_init(struct chan *, int);
ssize_t		 chan_recv(struct chan *, void *, size_t);
int		 chan_take(struct chan *);
int		 chan_put_fd(struct chan *, struct buf *, uint8_t, uint64_t,
		     const void *, size_t, int);
size_t		 chan_plain(const struct chan *, const struct buf *);
int		 chan_flush(struct chan *, struct buf *);
void		 chan_close(struct chan *);

/* state.c */
void		 state_hooks(void);
const char	*state_check(const struct smsup_machine *);
int		 state_restore(void *, const uint8_t *, size_t);
int		 state_save(void *, struct buf *, size_t);
int		 state_image(void *, size_t, size_t, struct buf *, int *,
		     size_t *);
int		 state_file(void *, size_t, int, size_t, size_t *, uint32_t *);
const char	*state_lasterr(void);
void		 state_clearerr(void);
int		 state_accepts(const char *);
int		 state_set_arg(int, const void *, size_t);
int		 state_mappable(const char *);
void		 state_clear_args(void);

/* serve.c */
int		 serve_run(int, void *);

#endif
