/* SPDX-License-Identifier: GPL-2.0 */
/* The INI reader's state and key tables, shared by policy_ini.c (grammar) and ini_values.c. */
#ifndef LSNITCH_INI_INTERNAL_H
#define LSNITCH_INI_INTERNAL_H

#include <stddef.h>

#include "rules_internal.h"

#define INI_MAX_KEYS 24 /* entries of the longest key table */

enum ini_section {
	SEC_NONE,
	SEC_GLOBAL,
	SEC_POLICY,
	SEC_LIST, /* [list NAME] (subscription.c) */
	SEC_RULES, /* [rules NAME]: more allow/deny rules for a policy defined earlier */
};

struct ini_state {
	struct ln_config *c;
	struct ln_linefile lf; /* the file, its source index and the line being read */
	char *dir;	       /* for relative list paths */
	char *base;	       /* file name without ".ini": the name of a bare [policy] */
	bool allow_global;
	enum ini_section sec;
	size_t pol;		  /* index of the current policy */
	size_t list;		  /* index of the current [list] */
	bool key_in_section;	  /* inih continues values only after a key */
	__u32 seen[INI_MAX_KEYS]; /* line of each once-only key of the section's table */
	size_t n_rules;		  /* allow/deny entries in the whole config */
	int rc;			  /* first error */
	__u32 err_line;
	struct ln_error *err;
};

struct ini_key;
/* Parses value @v of key @k into @obj, the section's struct ln_policy or struct ln_config. */
typedef int (*ini_parse_fn)(struct ini_state *st, const struct ini_key *k, void *obj, char *v);

/* One key of a section: a new key is one more entry in its section's table. */
struct ini_key {
	const char *name;
	ini_parse_fn parse;
	bool once;	     /* at most once per section */
	size_t off;	     /* of the value in @obj, for the parsers that take it */
	__u8 verdict;	     /* allow/deny keys */
	unsigned int lo, hi; /* numeric keys: the accepted range */
	const char *unit;    /* numeric keys: named in the error, or NULL */
};

#define INI_FIELD(obj, k) ((void *)((char *)(obj) + (k)->off))

/* Records the first error at the line being read; returns it. */
int ini_fail(struct ini_state *st, int rc, const char *fmt, ...) LN_PRINTF(3, 4);
/* Takes an error of a file read for @st (a list's, or the reader's): its message as it is. */
int ini_take_err(struct ini_state *st, int rc, const struct ln_error *e);

static inline __u32 ini_rule_id(const struct ini_state *st)
{
	return LN_RULE_ID(st->lf.file_idx, st->lf.line);
}

/* Value parsers of the rules and lists a policy names (ini_values.c). */
int ini_cgroup(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
int ini_rules(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
int ini_domain_rules(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
int ini_hosts(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
int ini_domains(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
int ini_dns_servers(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
/* One more value (a copy of @v) and its line's rule id at the end of *@vals / *@ids. */
int ini_push_value(struct ini_state *st, char ***vals, __u32 **ids, size_t *n, const char *v);
/* exe= (exe.c) */
int ini_exe(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
/*
 * One more element (@size bytes, @n in use) at the end of the array @v, zeroed, its first
 * member (a char *) a copy of @name: its address, or NULL with the error recorded.
 */
void *ini_push_named(struct ini_state *st, void **v, size_t *cap, size_t n, size_t size,
		     const char *name);
/* Whether @s is a policy or list name: [A-Za-z0-9_.@-]+ */
bool ini_is_name(const char *s);
/* "[list NAME]" (subscription.c): a new entry of c->lists, its keys in ini_list_keys[]. */
int ini_add_list_section(struct ini_state *st, const char *name);
extern const struct ini_key ini_list_keys[];
extern const size_t ini_n_list_keys;
/* [global] lists-dir (subscription.c). */
int ini_lists_dir(struct ini_state *st, const struct ini_key *k, void *obj, char *v);
/* [global] resolver-sockets (dns_bypass.c). */
int ini_resolver_sockets(struct ini_state *st, const struct ini_key *k, void *obj, char *v);

#endif /* LSNITCH_INI_INTERNAL_H */
