// SPDX-License-Identifier: GPL-2.0
/* Which cgroup is a unit's: systemd's word when it is PID 1, the cgroup tree's otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "agent.h"

#define LN_BUS_TIMEOUT_USEC 1000000 /* the event loop waits for these calls */

static bool has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), l = strlen(sfx);

	return n > l && !strcmp(s + n - l, sfx);
}

static const char *unit_interface(const char *unit)
{
	if (has_suffix(unit, ".service"))
		return "org.freedesktop.systemd1.Service";
	if (has_suffix(unit, ".scope"))
		return "org.freedesktop.systemd1.Scope";
	if (has_suffix(unit, ".slice"))
		return "org.freedesktop.systemd1.Slice";
	return NULL;
}

/* The system bus when systemd is PID 1 (opened on first use), else NULL. */
static sd_bus *systemd_bus(struct ln_manager *m)
{
	if (m->bus_tried)
		return m->bus;
	m->bus_tried = true;
	if (sd_booted() <= 0)
		return NULL;
	if (sd_bus_open_system(&m->bus) < 0) {
		m->bus = NULL;
		return NULL;
	}
	sd_bus_set_method_call_timeout(m->bus, LN_BUS_TIMEOUT_USEC);
	return m->bus;
}

/*
 * Manager.GetUnit(@unit), then the unit's ControlGroup property
 * ("/system.slice/nginx.service", relative to the cgroup2 root; empty while
 * the unit is not running).
 */
int ln_unit_cgroup_systemd(struct ln_manager *m, const char *unit, char **out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *iface = unit_interface(unit), *obj;
	sd_bus *bus = systemd_bus(m);
	char *cg = NULL;
	int r;

	if (!bus)
		return -ENOMEDIUM;
	if (!iface)
		return -EINVAL;
	r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "GetUnit", &e, &reply, "s",
			       unit);
	if (r < 0) {
		if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
			r = 0; /* not loaded: not running */
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &obj);
	if (r < 0)
		goto out;
	r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", obj, iface,
				       "ControlGroup", &e, &cg);
	if (r < 0)
		goto out;
	if (!cg[strspn(cg, "/")]) {
		r = 0;
		goto out;
	}
	*out = strdup(cg + strspn(cg, "/"));
	r = *out ? 1 : -ENOMEM;
out:
	free(cg);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

bool ln_unit_is_cgroup(struct ln_manager *m, const char *unit, const char *path)
{
	const char *base = strrchr(path, '/');
	char *cg = NULL;
	bool is;
	int r;

	/* systemd names a unit's cgroup after the unit: ask only about those. */
	base = base ? base + 1 : path;
	if (strcmp(base, unit))
		return false;
	r = ln_unit_cgroup_systemd(m, unit, &cg);
	if (r > 0) {
		is = !strcmp(cg, path);
		free(cg);
		return is;
	}
	/*
	 * systemd is the authority on its units: one it does not know or that
	 * is not running has no cgroup (a same-named cgroup inside a container
	 * is the container's). Without systemd, or when it does not answer,
	 * the tree rule decides.
	 */
	if (r == 0)
		return false;
	return ln_cgroup_unit_tree_match(unit, path);
}

/* Whether "@parent/@unit" is among the homes (@plen bytes of @parent). */
static bool home_find(struct ln_manager *m, const char *unit, const char *parent, size_t plen)
{
	for (size_t i = 0; i < m->n_unit_homes; i++) {
		const char *h = m->unit_homes[i];

		if (!strncmp(h, parent, plen) && h[plen] == '/' && !strcmp(h + plen + 1, unit))
			return true;
	}
	return false;
}

bool ln_unit_home_below(struct ln_manager *m, const char *parent)
{
	size_t n = strlen(parent);

	for (size_t i = 0; i < m->n_unit_homes; i++) {
		const char *h = m->unit_homes[i], *rest = h + n + !!n;

		/* "@parent/CHILD/UNIT" ("/CHILD/UNIT" below the root is "CHILD/UNIT") */
		if (!strncmp(h, parent, n) && (!n || h[n] == '/') && strchr(rest, '/') &&
		    !strchr(strchr(rest, '/') + 1, '/'))
			return true;
	}
	return false;
}

bool ln_unit_home_is(struct ln_manager *m, const char *unit, const char *parent)
{
	return home_find(m, unit, parent, strlen(parent));
}

int ln_unit_home_add(struct ln_manager *m, const char *unit, const char *parent, size_t len)
{
	char **v;
	char *h;

	if (home_find(m, unit, parent, len))
		return 0;
	v = realloc(m->unit_homes, (m->n_unit_homes + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->unit_homes = v;
	if (asprintf(&h, "%.*s/%s", (int)len, parent, unit) < 0)
		return -ENOMEM;
	v[m->n_unit_homes++] = h;
	return 1;
}

void ln_units_close(struct ln_manager *m)
{
	m->bus = sd_bus_flush_close_unref(m->bus);
	m->bus_tried = false;
	for (size_t i = 0; i < m->n_unit_homes; i++)
		free(m->unit_homes[i]);
	free(m->unit_homes);
	m->unit_homes = NULL;
	m->n_unit_homes = 0;
}
