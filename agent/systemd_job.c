// SPDX-License-Identifier: GPL-2.0
/* Whether systemd is restarting the agent's own unit (so SIGTERM should hand over, not detach). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "agent.h"

#define SD_DEST "org.freedesktop.systemd1"
/* A stopping agent must not wait long: TimeoutStopSec= is running. */
#define SD_JOB_TIMEOUT_USEC (2 * 1000 * 1000)

/* The type of the job systemd runs on @unit ("restart", "stop", ...): 0, -ENOENT (none), -errno. */
static int unit_job_type(sd_bus *bus, const char *unit, char **type)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *job_path;
	char *path = NULL;
	uint32_t id = 0;
	int r;

	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
	if (r < 0)
		return r;
	r = sd_bus_get_property(bus, SD_DEST, path, SD_DEST ".Unit", "Job", &error, &reply, "(uo)");
	if (r >= 0)
		r = sd_bus_message_read(reply, "(uo)", &id, &job_path);
	if (r >= 0 && id == 0)
		r = -ENOENT;
	if (r >= 0)
		r = sd_bus_get_property_string(bus, SD_DEST, job_path, SD_DEST ".Job", "JobType",
					       &error, type);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	free(path);
	return r < 0 ? r : 0;
}

/*
 * `systemctl restart` (and a package upgrade's) stops the unit before it
 * starts it again: the job systemd runs on the unit while it sends SIGTERM is
 * of type "restart", whereas `systemctl stop` runs a "stop" job. Outside
 * systemd (no INVOCATION_ID), or when systemd cannot be asked, the answer is
 * false: SIGTERM detaches, as it always did.
 */
bool ln_systemd_is_restarting(void)
{
	char *unit = NULL, *type = NULL;
	sd_bus *bus = NULL;
	bool restarting = false;

	if (!getenv("INVOCATION_ID") || sd_pid_get_unit(0, &unit) < 0)
		return false;
	if (sd_bus_open_system(&bus) >= 0 &&
	    sd_bus_set_method_call_timeout(bus, SD_JOB_TIMEOUT_USEC) >= 0 &&
	    unit_job_type(bus, unit, &type) >= 0)
		restarting = !strcmp(type, "restart");
	sd_bus_flush_close_unref(bus);
	free(type);
	free(unit);
	return restarting;
}
