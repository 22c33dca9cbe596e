/*
 * bench.h: what the parts of `make bench` share: the run's directories,
 * the figures table, and driving a supervisor (bench.c).
 */
#ifndef SMSUP_BENCH_H
#define SMSUP_BENCH_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct status_row;

extern int	 quick;		/* --quick: the short run of CI */
extern char	 dir[PATH_MAX], sock[PATH_MAX], bin[PATH_MAX];
extern char	 build[PATH_MAX];

void		 bench_fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
double		 bench_us(uint64_t);
double		 bench_quantile(double *, size_t, double);
void		 bench_figure(const char *, const char *, double, double,
		    const char *, int);
int		 bench_sh(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
pid_t		 bench_start(const char *);
struct status_row *bench_rows(uint32_t *, uint64_t *);
int		 bench_started(void);
void		 bench_stop(pid_t);
int		 bench_call(int, const char *, const char *, char *, size_t);
double		 bench_upgrade(const char *, const char *);
long		 bench_vm_kib(pid_t, const char *);
void		 bench_io(int, void *, size_t, int);

size_t		 bench_pipeline(int, uint8_t, const struct buf *, size_t,
		    size_t, double *);

/* big.c: large states. */
void		 bench_big(void);

/* cluster.c: three nodes against one supervisor alone. */
void		 bench_cluster(double, double);

#endif
