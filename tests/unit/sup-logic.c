/* sup-logic.c: unit tests of the supervisor's pure parts: the pending ring, paths, units. */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "smsup.h"

Test(queue, keeps_order_across_growth_and_wraparound)
{
	struct pqueue	 q = { 0 };
	struct pending	 p = { 0 }, *h;
	uint64_t	 next = 0, want = 0;
	int		 round, i;

	/* Interleave pushes and pops so the ring wraps while it grows. */
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 37 + round; i++) {
			p.seq = next++;
			cr_assert_eq(queue_push(&q, &p), 0);
		}
		for (i = 0; i < 30; i++) {
			h = queue_head(&q);
			cr_assert_not_null(h);
			cr_assert_eq(h->seq, want++);
			queue_pop(&q);
		}
	}
	cr_assert_eq(queue_at(&q, 0)->seq, want);
	cr_assert_eq(queue_at(&q, q.n - 1)->seq, next - 1);
	cr_assert_null(queue_at(&q, q.n));
	while ((h = queue_head(&q)) != NULL) {
		cr_assert_eq(h->seq, want++);
		queue_pop(&q);
	}
	cr_assert_eq(want, next);
	queue_free(&q);
}

Test(units, durations)
{
	char	 s[32];

	units_duration(850, s, sizeof s);
	cr_assert_str_eq(s, "850ns");
	units_duration(87000, s, sizeof s);
	cr_assert_str_eq(s, "87us");
	units_duration(1250000, s, sizeof s);
	cr_assert_str_eq(s, "1.25ms");
	units_duration(3400000000ull, s, sizeof s);
	cr_assert_str_eq(s, "3.40s");
	units_age(41000000000ull, s, sizeof s);
	cr_assert_str_eq(s, "41s");
	units_age(303000000000ull, s, sizeof s);
	cr_assert_str_eq(s, "5m03s");
	units_age(7500ull * 1000000000ull, s, sizeof s);
	cr_assert_str_eq(s, "2h05m");
	units_age(100ull * 3600 * 1000000000ull, s, sizeof s);
	cr_assert_str_eq(s, "4d04h");
}

Test(paths, socket_precedence)
{
	char	 p[PATH_MAX];

	setenv("SMSUP_SOCKET", "/env/sock", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	cr_assert_eq(paths_socket("/opt/sock", p, sizeof p), 0);
	cr_assert_str_eq(p, "/opt/sock");
	cr_assert_eq(paths_socket(NULL, p, sizeof p), 0);
	cr_assert_str_eq(p, "/env/sock");
	unsetenv("SMSUP_SOCKET");
	cr_assert_eq(paths_socket(NULL, p, sizeof p), 0);
	cr_assert_str_eq(p, "/run/user/7/smsup/control.sock");
	unsetenv("XDG_RUNTIME_DIR");
	cr_assert_eq(paths_socket(NULL, p, sizeof p), 0);
	snprintf(p + 100, 60, "/tmp/smsup-%ld/control.sock", (long)getuid());
	cr_assert_str_eq(p, p + 100);
	/* Longer than a sockaddr_un can hold. */
	memset(p + 200, 'x', 150);
	p[200] = '/';
	p[350] = '\0';
	cr_assert_eq(paths_socket(p + 200, p, 200), -1);
}

Test(paths, specs)
{
	char	 dir[] = "/tmp/smsup-unit.XXXXXX", bin[PATH_MAX];
	char	 name[SMSUP_NAME_MAX + 1], path[PATH_MAX], err[256];
	FILE	*f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(bin, sizeof bin, "%s/counter", dir);
	cr_assert_not_null(f = fopen(bin, "w"));
	fclose(f);
	chmod(bin, 0755);

	setenv("SMSUP_PATH", "/nonexistent::", 1);
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(paths_spec("counter", name, sizeof name, path,
	    sizeof path, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(name, "counter");
	cr_assert_str_eq(path, bin);

	cr_assert_eq(paths_spec("c2=./bin/x", name, sizeof name, path,
	    sizeof path, err, sizeof err), 0);
	cr_assert_str_eq(name, "c2");
	snprintf(bin, sizeof bin, "%s/bin/x", dir);
	cr_assert_str_eq(path, bin);

	cr_assert_eq(paths_spec("missing", name, sizeof name, path,
	    sizeof path, err, sizeof err), -1);
	cr_assert(strstr(err, "no executable 'missing'") != NULL, "%s", err);
	/* Wrong as written: a usage error (-2), not a missing binary. */
	cr_assert_eq(paths_spec("a/b=x", name, sizeof name, path,
	    sizeof path, err, sizeof err), -2);
	cr_assert(strstr(err, "invalid machine name") != NULL);
	cr_assert_eq(paths_spec("a=", name, sizeof name, path, sizeof path,
	    err, sizeof err), -2);

	snprintf(bin, sizeof bin, "%s/counter", dir);
	cr_assert_eq(paths_check_binary(bin, err, sizeof err), 0);
	chmod(bin, 0644);
	cr_assert_eq(paths_check_binary(bin, err, sizeof err), -1);
	cr_assert(strstr(err, "not executable") != NULL);
	cr_assert_eq(paths_check_binary(dir, err, sizeof err), -1);
	cr_assert(strstr(err, "not a regular file") != NULL);
	unlink(bin);
	rmdir(dir);
}

Test(units, parse_seconds)
{
	double	 d;

	cr_assert_eq(units_parse_seconds("2", 3600, &d), 0);
	cr_assert_float_eq(d, 2.0, 1e-9);
	cr_assert_eq(units_parse_seconds("0.5", 3600, &d), 0);
	cr_assert_float_eq(d, 0.5, 1e-9);
	cr_assert_eq(units_parse_seconds("250ms", 3600, &d), 0);
	cr_assert_float_eq(d, 0.25, 1e-9);
	cr_assert_eq(units_parse_seconds("3s", 3600, &d), 0);
	cr_assert_eq(units_parse_seconds("0", 3600, &d), -1);
	cr_assert_eq(units_parse_seconds("-1", 3600, &d), -1);
	cr_assert_eq(units_parse_seconds("3601", 3600, &d), -1);
	cr_assert_eq(units_parse_seconds("5 min", 3600, &d), -1);
	cr_assert_eq(units_parse_seconds("", 3600, &d), -1);
	cr_assert_eq(units_parse_seconds("nan", 3600, &d), -1);
}

Test(units, parse_size)
{
	uint64_t	 v;

	cr_assert_eq(units_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(units_parse_size("4K", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(units_parse_size("16M", &v), 0);
	cr_assert_eq(v, 16u << 20);
	cr_assert_eq(units_parse_size("1g", &v), 0);
	cr_assert_eq(v, 1u << 30);
	cr_assert_eq(units_parse_size("0", &v), -1);
	cr_assert_eq(units_parse_size("-4K", &v), -1);
	cr_assert_eq(units_parse_size("4KB", &v), -1);
	cr_assert_eq(units_parse_size("K", &v), -1);
	cr_assert_eq(units_parse_size("99999999999999999999", &v), -1);
}

Test(queue, unpush_takes_back_the_newest)
{
	struct pqueue	 q = { 0 };
	struct pending	 p = { 0 };
	uint64_t	 i;

	for (i = 1; i <= 3; i++) {
		p.seq = i;
		queue_push(&q, &p);
	}
	queue_unpush(&q);
	cr_assert_eq(q.n, 2);
	cr_assert_eq(queue_at(&q, 1)->seq, 2);
	queue_pop(&q);
	queue_unpush(&q);
	cr_assert_eq(q.n, 0);
	cr_assert_null(queue_head(&q));
	queue_unpush(&q);
	cr_assert_eq(q.n, 0);
	queue_free(&q);
}

Test(queue, remove_keeps_the_order_of_the_others)
{
	static const uint64_t want[] = { 5, 6, 7, 9, 10, 11 };
	struct pqueue	 q = { 0 };
	struct pending	 p = { 0 };
	uint64_t	 i;

	/* Wrapped around first, so that removal crosses the ring's end. */
	for (i = 0; i < 6; i++) {
		p.seq = i;
		queue_push(&q, &p);
	}
	for (i = 0; i < 5; i++)
		queue_pop(&q);
	for (i = 6; i < 12; i++) {
		p.seq = i;
		queue_push(&q, &p);
	}
	queue_remove(&q, 3);	/* seq 8 */
	cr_assert_eq(q.n, 6);
	for (i = 0; i < q.n; i++)
		cr_assert_eq(queue_at(&q, i)->seq, want[i]);
	queue_remove(&q, 0);
	queue_remove(&q, q.n - 1);
	cr_assert_eq(queue_head(&q)->seq, 6);
	cr_assert_eq(queue_at(&q, q.n - 1)->seq, 10);
	queue_free(&q);
}

/* The walk of paths_open_binary: links followed and checked, no swap. */
Test(paths, binaries_through_links_and_directories)
{
	char	 dir[] = "/tmp/sup-paths.XXXXXX", p[PATH_MAX], t[PATH_MAX];
	char	 err[512];
	int	 fd;
	FILE	*f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/bin", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/bin/w", dir);
	cr_assert_not_null(f = fopen(p, "w"));
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(p, 0755);
	/* A relative link through "..": the same file, readable. */
	snprintf(t, sizeof t, "%s/link", dir);
	cr_assert_eq(symlink("bin/../bin/w", t), 0);
	cr_assert_geq(fd = paths_open_binary(t, err, sizeof err), 0, "%s",
	    err);
	close(fd);
	/* A directory on the way that others may write. */
	snprintf(p, sizeof p, "%s/bin", dir);
	chmod(p, 0777);
	cr_assert_eq(paths_open_binary(t, err, sizeof err), -1);
	cr_assert(strstr(err, "writable by others and not sticky") != NULL,
	    "%s", err);
	chmod(p, 01777);
	cr_assert_geq(fd = paths_open_binary(t, err, sizeof err), 0, "%s",
	    err);
	close(fd);
	chmod(p, 0755);
	/* A loop of links. */
	snprintf(p, sizeof p, "%s/loop", dir);
	cr_assert_eq(symlink("loop", p), 0);
	cr_assert_eq(paths_open_binary(p, err, sizeof err), -1);
	cr_assert(strstr(err, "too many links") != NULL, "%s", err);
	/* Not absolute. */
	cr_assert_eq(paths_open_binary("bin/w", err, sizeof err), -1);
	snprintf(p, sizeof p, "rm -rf %s", dir);
	cr_assert_eq(system(p), 0);
}
