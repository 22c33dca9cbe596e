/* worker-int.h: internals shared by the files of the worker library. */
#ifndef SMSUP_WORKER_INT_H
#define SMSUP_WORKER_INT_H

#include <stddef.h>

#include "smsup/worker.h"
#include "buf.h"

struct smsup_output {
	struct buf	*b;
	size_t		 start;
	size_t		 max;
	int		 overflow;
};

/* state.c */
void		 state_hooks(void);
const char	*state_check(const struct smsup_machine *);
int		 state_restore(void *, const uint8_t *, size_t);
int		 state_save(void *, struct buf *, size_t);
const char	*state_lasterr(void);
void		 state_clearerr(void);
int		 state_accepts(const char *);

/* serve.c */
int		 serve_run(int, void *);

#endif
