/*
 * kvmap.h: the kv store's map and its inputs, shared by both kv versions:
 * what a version changes is its state layout (save, load, migrate).
 */
#ifndef KVMAP_H
#define KVMAP_H

#include <stddef.h>
#include <stdint.h>

struct kv_entry {
	char		*key;
	char		*val;
	uint32_t	 writes;	/* kept by v2 only */
};

struct kvmap {
	struct kv_entry	*e;
	size_t		 n;
	size_t		 cap;
};

struct kv_entry	*kvmap_find(struct kvmap *, const char *);
struct kv_entry	*kvmap_put(struct kvmap *, char *, char *);
int		 kvmap_del(struct kvmap *, const char *);
void		 kvmap_free(struct kvmap *);
struct smsup_output;
int		 kvmap_step(struct kvmap *, const char *, size_t,
		    struct smsup_output *, int);

#endif
