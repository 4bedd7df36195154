/* priv.c - drop root once the firewall is set up.
 *
 * That is before the lease file and the sockets are opened (the lease
 * file then belongs to the user igdd runs as, and lease.c checks that it
 * does); what igdd still needs is CAP_NET_ADMIN to change nftables (the
 * kernel checks it on each netlink message, against the sender as well
 * as the socket's opener) and CAP_NET_BIND_SERVICE if a port below 1024
 * is to be bound.  Everything else goes:
 * the bounding set, the supplementary groups, the uid and gid when a user
 * is configured, and the ability to regain anything (no_new_privs). */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"
#include "util.h"

static int
caps_set(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static int
caps_get(uint64_t *eff)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	*eff = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return 0;
}

int
priv_user(const char *user, struct priv_user *u, char *why, size_t size)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	u->uid = geteuid();
	u->gid = getegid();
	if (user == NULL || user[0] == '\0') {
		/* Not root: already someone (systemd's User=, say). */
		if (geteuid() != 0)
			return 0;
		if (getpwnam(PRIV_DEFAULT_USER) == NULL) {
			u->no_default = true;
			return 0;
		}
		user = PRIV_DEFAULT_USER;
	}
	pw = getpwnam(user);
	if (pw == NULL || str_copy(u->name, sizeof(u->name), user) < 0) {
		str_printf(why, size, "user %s does not exist", user);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->change = true;
	return 0;
}

int
priv_drop(const struct priv_user *u, bool keep_bind, const char *writable_dir)
{
	uint64_t keep = 1ULL << CAP_NET_ADMIN, eff;
	bool trim;
	int cap;

	if (keep_bind)
		keep |= 1ULL << CAP_NET_BIND_SERVICE;
	/* Nothing is opened by a relative path; no directory is kept busy. */
	if (chdir("/") < 0) {
		log_warn("chdir /");
		return -1;
	}
	/* Bounding set first: dropping from it needs CAP_SETPCAP.  A daemon
	 * started without it (systemd's User= with ambient capabilities,
	 * the bounding set the unit's) keeps the one it was given: the
	 * permitted and effective sets below are what it can use, and
	 * no_new_privs keeps an exec from regaining anything. */
	trim = caps_get(&eff) == 0 && (eff & (1ULL << CAP_SETPCAP));
	for (cap = 0; trim && cap <= CAP_LAST_CAP; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			log_warn("dropping capability %d from the bounding set", cap);
			return -1;
		}
	}
	if (u->change) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0 ||
		    setresgid(u->gid, u->gid, u->gid) < 0 ||
		    setresuid(u->uid, u->uid, u->uid) < 0) {
			log_warn("switching to user %s", u->name);
			return -1;
		}
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (caps_set(keep) < 0) {
		log_warn("capset");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_warn("no_new_privs");
		return -1;
	}
	/* Check rather than trust: the effective set is exactly what we keep,
	 * and root cannot be regained. */
	if (caps_get(&eff) < 0 || eff != keep) {
		log_warnx("capabilities not dropped as asked");
		return -1;
	}
	if (u->change && u->uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		log_warnx("could regain root after dropping it");
		return -1;
	}
	if (writable_dir != NULL && writable_dir[0] != '\0' && access(writable_dir, W_OK | X_OK) < 0) {
		log_warn("lease file directory %s is not writable by %s", writable_dir,
			 u->change ? u->name : "igdd without CAP_DAC_OVERRIDE");
		return -1;
	}
	log_info("privileges dropped: %s%s (uid %u), capabilities CAP_NET_ADMIN%s",
		 u->change ? "user " : "", u->change ? u->name : "as started",
		 (unsigned)geteuid(), keep_bind ? " CAP_NET_BIND_SERVICE" : "");
	return 0;
}
