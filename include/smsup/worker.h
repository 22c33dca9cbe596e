/*
 * smsup/worker.h: the API for writing a machine that smsup(1) can run and
 * upgrade in place. See smsup-worker(3).
 *
 * A machine is `input -> state -> (state, output)`. Its author writes a state
 * struct described by a tpl format string (fixed-width types only), an init,
 * a step, and a migrate for the older (or newer) versions it accepts, and
 * declares them with SMSUP_MACHINE. The library supplies main(): the binary
 * then speaks smsup's worker protocol, and also answers
 *
 *	BIN --sm-info			one line of JSON describing the machine
 *	BIN --sm-migrate < old > new	migrate a state image offline
 */
#ifndef SMSUP_WORKER_H
#define SMSUP_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <tpl.h>

#define SMSUP_WORKER_ABI	2

/* A state image handed to migrate and load; data is the tpl image. */
struct smsup_image {
	const char	*name;		/* machine name that wrote it */
	const char	*version;	/* machine version that wrote it */
	const char	*format;	/* tpl format of data */
	const void	*data;
	size_t		 len;
};

/* Where step writes its output (opaque). */
struct smsup_output;

struct smsup_machine {
	int		  abi;		/* SMSUP_WORKER_ABI, set by SMSUP_MACHINE */
	const char	 *name;		/* [A-Za-z0-9_.-]{1,64} */
	const char	 *version;	/* printable, no spaces */
	const char	 *format;	/* tpl format of the state */
	size_t		  state_size;	/* sizeof the state struct */
	const char *const *migrates_from; /* SMSUP_VERSIONS("1", ...) or NULL */

	/* Set up a fresh state (zeroed memory of state_size). */
	int		(*init)(void *state);
	/*
	 * Apply one input (len bytes, NUL-terminated for convenience) and
	 * write the output with smsup_reply. Return 0, or -1 after
	 * smsup_error to answer the caller with an error: the state must
	 * then be unchanged.
	 */
	int		(*step)(void *state, const char *input, size_t len,
			    struct smsup_output *out);
	/*
	 * Build the state (zeroed) from an image written by another
	 * version, one of migrates_from (old->version says which). Return
	 * 0, or -1 after smsup_error.
	 */
	int		(*migrate)(void *state, const struct smsup_image *old);

	/*
	 * Optional, for formats the library cannot map as one struct (with
	 * A(...), B or #): save maps and packs the state and returns the
	 * tpl_node (the library dumps and frees it); load restores a state
	 * from an image of this very version. Without them the library
	 * maps `format` onto the state struct itself.
	 */
	tpl_node	*(*save)(void *state);
	int		(*load)(void *state, const struct smsup_image *img);
	/* Optional: release what the state owns (strings, arrays). */
	void		(*destroy)(void *state);

	/*
	 * Optional: names of the state's fields for `smsup state` and
	 * `smsup trace`, in the shape of the format: "old,n,resets" for
	 * S(iii), "(key,value)" for A(S(ss)), "n,items(id,tags)" for
	 * iA(S(is)). Unnamed fields are numbered "0", "1", ...
	 */
	const char	 *fields;
};

#define SMSUP_MACHINE(...)						\
	const struct smsup_machine smsup_machine = {			\
		.abi = SMSUP_WORKER_ABI, __VA_ARGS__			\
	}
#define SMSUP_VERSIONS(...)	((const char *const []){ __VA_ARGS__, NULL })

/* Append printf-style text (or bytes) to the output of the current step. */
int	smsup_reply(struct smsup_output *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	smsup_reply_bytes(struct smsup_output *, const void *, size_t);

/* Record why init, step, migrate or load failed; always returns -1. */
int	smsup_error(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * The text `smsup run --init-arg` gave, in init (NULL if none); the text of
 * `smsup upgrade --extra`, in migrate or load (NULL if none). NUL-
 * terminated; *len (if len is not NULL) is its length.
 */
const char *smsup_init_arg(size_t *);
const char *smsup_extra(size_t *);

/* 1 if the input is exactly the word w. */
int	smsup_input_is(const char *, size_t, const char *);

/*
 * Match the input against a command pattern: words, then arguments, each
 * one word of the input (runs of spaces and tabs separate them):
 *	%d	int64_t *		%u	uint64_t *
 *	%f	double *		%s	char *buf, size_t size
 *	%r	const char **, size_t *: the rest of the input, last only
 * "add %d" takes "add 30000". 1 if it matches, every argument stored; 0 if
 * its words are not the input's (another command); -1 with smsup_error
 * set ("add: expected an integer, got 'x'; usage: add INTEGER") if they
 * are but its arguments are wrong: return it from step.
 */
int	smsup_input_match(const char *, size_t, const char *, ...);

/*
 * Reply with JSON, as `smsup state` prints it: the whole state (its
 * format, its fields; by save for a format the library cannot map); a
 * value at v that a mappable format describes (one S(...) or scalar);
 * or a node the caller mapped and packed (freed). 0, or -1 with
 * smsup_error set.
 */
int	smsup_reply_state(struct smsup_output *, const void *);
int	smsup_reply_json(struct smsup_output *, const char *, const void *,
	    const char *);
int	smsup_reply_tpl(struct smsup_output *, tpl_node *, const char *);

/*
 * Unpack an image whose format is exactly `format` and has no A(...), into
 * the struct at dst (as tpl_map(format, dst) would). 0, or -1 with
 * smsup_error set.
 */
int	smsup_image_unpack(const struct smsup_image *, const char *, void *);

/*
 * Map `format` with the variables given (as tpl_map), check the image has
 * that format and load it: the caller then tpl_unpack's and tpl_free's the
 * node. NULL with smsup_error set on failure.
 */
tpl_node *smsup_image_map(const struct smsup_image *, const char *, ...);

extern const struct smsup_machine smsup_machine;

#endif
