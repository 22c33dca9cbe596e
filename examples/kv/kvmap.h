/* kvmap.h: a sorted array of string keys and values, used by both kv versions. */
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
int		 kvmap_parse(char *, size_t, char **, char **, char **);

#endif
