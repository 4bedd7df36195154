/* igddctl.c - the command line of the control socket (igddctl(8)): one
 * request, one answer, printed for a person (a table, "key: value"
 * lines) or as the JSON the daemon sent.  Exit status: 0 done, 1 igdd
 * refused, 2 bad arguments, 3 igdd not reachable, 4 permission denied. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "json.h"
#include "mapping.h"
#include "util.h"

#define EX_REFUSED	1
#define EX_USAGE	2
#define EX_UNREACHABLE	3
#define EX_DENIED	4
#include "igddctl.h"

#define ANSWER_TIMEOUT_MS 60000

struct args {
	const char *socket;
	const char *cmd;
	const char *pos[8];
	int n_pos;
	bool json;
	const char *lease, *rhost, *source;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: igddctl [-s SOCKET] COMMAND [ARGUMENTS]\n"
		"  list [--json]                      every mapping and IPv6 pinhole, with its\n"
		"                                     kernel counters\n"
		"  add PROTO EXT_PORT ADDR INT_PORT [DESCRIPTION] [--lease SECONDS]\n"
		"                                     a manual forward (permanent without --lease)\n"
		"  del PROTO EXT_PORT [--remote-host ADDR]\n"
		"  del pinhole UNIQUE_ID              an IPv6 pinhole (its ID in list)\n"
		"  flush [--source manual|upnp|natpmp|pcp]\n"
		"  stats [--json]                     requests, results, drops, mappings,\n"
		"                                     pinholes, uptime\n"
		"  metrics                            the same for Prometheus (text format)\n"
		"  status [--json]                    version, uptime, external address, LANs\n"
		"  reload                             re-read the configuration file\n"
		"  passwd [--sha512] [FILE]           a password hash for admin_password_file\n"
		"                                     (to FILE, or to standard output)\n"
		"Default socket: %s.  See igddctl(8).\n", IGDD_DEFAULT_CONTROL_SOCKET);
}

static int ATTR_PRINTF(1, 2)
die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "igddctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (igddctl -h for help)\n");
	return EX_USAGE;
}

/* -s SOCKET, the command, its words and its options. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->socket = IGDD_DEFAULT_CONTROL_SOCKET;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char **opt = NULL;

		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			usage(stdout);
			return -1;
		}
		if (strcmp(s, "--version") == 0) {
			printf("igddctl %s\n", IGDD_VERSION);
			return -1;
		}
		if (strcmp(s, "--json") == 0) {
			a->json = true;
			continue;
		}
		if (strcmp(s, "-s") == 0 && a->cmd == NULL)
			opt = &a->socket;
		else if (strcmp(s, "--lease") == 0)
			opt = &a->lease;
		else if (strcmp(s, "--remote-host") == 0)
			opt = &a->rhost;
		else if (strcmp(s, "--source") == 0)
			opt = &a->source;
		if (opt != NULL) {
			if (++i >= argc)
				return die_usage("%s needs a value", s);
			*opt = argv[i];
		} else if (s[0] == '-' && s[1] != '\0') {
			return die_usage("unknown option '%s'", s);
		} else if (a->cmd == NULL) {
			a->cmd = s;
		} else if (a->n_pos < (int)ARRAY_SIZE(a->pos)) {
			a->pos[a->n_pos++] = s;
		} else {
			return die_usage("too many arguments after '%s'", a->cmd);
		}
	}
	if (a->cmd == NULL) {
		usage(stderr);
		return EX_USAGE;
	}
	return 0;
}

static int
arg_port(struct json_out *o, const char *key, const char *v)
{
	uint16_t p;

	if (parse_u16(v, 1, 65535, &p) < 0)
		return die_usage("'%s' is not a port (1-65535)", v);
	json_kv_u64(o, key, p);
	return 0;
}

static int
arg_proto(struct json_out *o, const char *v)
{
	uint8_t p;

	if (proto_parse(v, &p) < 0)
		return die_usage("'%s' is not a protocol (tcp or udp)", v);
	json_kv_str(o, "protocol", p == IPPROTO_TCP ? "tcp" : "udp");
	return 0;
}

static int
arg_addr(struct json_out *o, const char *key, const char *v)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return die_usage("'%s' is not an IPv4 address", v);
	json_kv_str(o, key, v);
	return 0;
}

/* The members of add/del/flush from the words and options. */
static int
request_members(const struct args *a, struct json_out *o)
{
	bool add = strcmp(a->cmd, "add") == 0, del = strcmp(a->cmd, "del") == 0;
	uint32_t lease;
	uint16_t uid;
	int rc = 0;

	if ((a->lease != NULL && !add) || (a->rhost != NULL && !del) ||
	    (a->source != NULL && strcmp(a->cmd, "flush") != 0))
		return die_usage("an option does not apply to '%s'", a->cmd);
	if (add) {
		if (a->n_pos < 4 || a->n_pos > 5)
			return die_usage("%s: PROTO EXT_PORT ADDR INT_PORT [DESCRIPTION]", a->cmd);
		rc = arg_proto(o, a->pos[0]) || arg_port(o, "external_port", a->pos[1]) ||
		     arg_addr(o, "internal_client", a->pos[2]) ||
		     arg_port(o, "internal_port", a->pos[3]);
		if (rc == 0 && a->n_pos == 5)
			json_kv_str(o, "description", a->pos[4]);
		if (rc == 0 && a->lease != NULL) {
			if (parse_u32(a->lease, 0, CTL_LEASE_MAX, &lease) < 0)
				return die_usage("--lease '%s': seconds, 0 to 31536000", a->lease);
			json_kv_u64(o, "lease", lease);
		}
	} else if (del && a->n_pos == 2 && strcmp(a->pos[0], "pinhole") == 0) {
		if (a->rhost != NULL)
			return die_usage("--remote-host does not apply to a pinhole");
		if (parse_u16(a->pos[1], 1, 65535, &uid) < 0)
			return die_usage("'%s' is not a pinhole's UniqueID (1-65535)", a->pos[1]);
		json_kv_u64(o, "unique_id", uid);
	} else if (del) {
		if (a->n_pos != 2)
			return die_usage("%s: PROTO EXT_PORT [--remote-host ADDR], or pinhole UNIQUE_ID",
					 a->cmd);
		rc = arg_proto(o, a->pos[0]) || arg_port(o, "external_port", a->pos[1]) ||
		     (a->rhost != NULL && arg_addr(o, "remote_host", a->rhost));
	} else {
		if (a->n_pos != 0)
			return die_usage("'%s' takes no more words", a->cmd);
		if (a->source != NULL)
			json_kv_str(o, "source", a->source);
	}
	return rc ? EX_USAGE : 0;
}

static int
build_request(const struct args *a, struct json_out *o)
{
	static const char *const cmds[] = { "list", "add", "del", "flush", "stats", "metrics",
					    "status", "reload" };
	size_t k;
	int rc;

	for (k = 0; k < ARRAY_SIZE(cmds) && strcmp(a->cmd, cmds[k]) != 0; k++)
		;
	if (k == ARRAY_SIZE(cmds))
		return die_usage("unknown command '%s'", a->cmd);
	json_obj_begin(o);
	json_kv_u64(o, "v", CTL_VERSION);
	json_kv_str(o, "cmd", a->cmd);
	if ((rc = request_members(a, o)) != 0)
		return rc;
	json_obj_end(o);
	json_raw(o, "\n", 1);
	return o->failed ? EX_USAGE : 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
		fprintf(stderr, "igddctl: socket path too long: %s\n", path);
		return -EX_USAGE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "igddctl: permission denied: %s (root and members of "
				"control_group only)\n", path);
			return -EX_DENIED;
		}
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "igddctl: igdd is not running (nothing listens on %s)\n", path);
		else
			fprintf(stderr, "igddctl: %s: %s\n", path, strerror(e));
		return -EX_UNREACHABLE;
	}
	return fd;
}

/* Send the request, read the answer line into *buf (NUL-terminated, no
 * newline).  0, or an exit status. */
static int
exchange(int fd, const struct json_out *req, char **buf, size_t *len)
{
	size_t off = 0, cap = 65536;
	char *b = malloc(cap), *nl = NULL;

	while (off < req->len) {
		ssize_t w = send(fd, req->p + off, req->len - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EINTR)
			break;
		off += w > 0 ? (size_t)w : 0;
	}
	*len = 0;
	while (b != NULL && nl == NULL) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (cap - *len < 4096 && (b = realloc(b, cap *= 2)) == NULL)
			break;
		if (poll(&p, 1, ANSWER_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "igddctl: igdd did not answer within %d s\n",
				ANSWER_TIMEOUT_MS / 1000);
			free(b);
			return EX_UNREACHABLE;
		}
		r = recv(fd, b + *len, cap - *len - 1, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		nl = memchr(b + *len, '\n', (size_t)r);
		*len += (size_t)r;
	}
	if (b == NULL || nl == NULL) {
		fprintf(stderr, "igddctl: igdd closed the connection without an answer%s\n",
			b == NULL ? " (out of memory)" : "");
		free(b);
		return EX_UNREACHABLE;
	}
	*len = (size_t)(nl - b);
	b[*len] = '\0';
	*buf = b;
	return 0;
}

/* ---- the answer ---- */

int
find_member(const struct answer *an, struct json_rd *rd, const char *name, enum json_tok *tok)
{
	enum json_tok t;

	json_rd_init(rd, an->text, an->len, JSON_MAX_DEPTH, an->str, STR_MAX);
	if (json_next(rd) != JSON_OBJECT)
		return -1;
	while ((t = json_next(rd)) == JSON_KEY) {
		bool hit = strcmp(rd->str, name) == 0;

		t = json_next(rd);
		if (hit) {
			*tok = t;
			return 0;
		}
		if (json_skip(rd, t) < 0)
			return -1;
	}
	return -1;
}

/* Print the JSON text of member `name` (a value of the answer). */
static int
print_member_json(const struct answer *an, const char *name)
{
	struct json_rd rd;
	enum json_tok t;
	const char *start;

	if (find_member(an, &rd, name, &t) < 0 || (t != JSON_ARRAY && t != JSON_OBJECT))
		return -1;
	start = rd.p - 1;
	if (json_skip(&rd, t) < 0)
		return -1;
	fwrite(start, 1, (size_t)(rd.p - start), stdout);
	putchar('\n');
	return 0;
}

/* Every scalar of the answer as "path: value" lines ("ok" left out). */
static void
print_flat(const struct answer *an)
{
	struct json_rd rd;
	char path[256] = "", *seg[JSON_MAX_DEPTH + 1];
	size_t idx[JSON_MAX_DEPTH + 1] = { 0 };
	bool in_arr[JSON_MAX_DEPTH + 1] = { false };
	unsigned d = 0;
	enum json_tok t;

	seg[0] = path;
	json_rd_init(&rd, an->text, an->len, JSON_MAX_DEPTH, an->str, STR_MAX);
	while ((t = json_next(&rd)) != JSON_END && t != JSON_ERROR) {
		if (t == JSON_OBJECT_END || t == JSON_ARRAY_END) {
			*seg[--d] = '\0';
			continue;
		}
		if (t == JSON_KEY) {
			*seg[d] = '\0';
			(void)str_appendf(path, sizeof(path), "%s%s", d > 1 ? "." : "", rd.str);
			continue;
		}
		if (d > 0 && in_arr[d]) {
			*seg[d] = '\0';
			(void)str_appendf(path, sizeof(path), "[%zu]", idx[d]++);
		}
		if (t == JSON_OBJECT || t == JSON_ARRAY) {
			d++;
			seg[d] = path + strlen(path);
			in_arr[d] = t == JSON_ARRAY;
			idx[d] = 0;
			continue;
		}
		if (strcmp(path, "ok") == 0)
			continue;
		if (t == JSON_STRING)
			printf("%s: %s\n", path, rd.str);
		else
			printf("%s: %.*s\n", path, (int)(rd.p - rd.tok), rd.tok);
	}
}

static int
show(const struct args *a, const struct answer *an)
{
	struct json_rd rd;
	enum json_tok t;

	if (strcmp(a->cmd, "list") == 0)
		return a->json ? print_member_json(an, "mappings") : print_table(an);
	if (strcmp(a->cmd, "metrics") == 0) {
		if (find_member(an, &rd, "text", &t) < 0 || t != JSON_STRING)
			return -1;
		fputs(rd.str, stdout);
		return 0;
	}
	if (strcmp(a->cmd, "reload") == 0) {
		if (find_member(an, &rd, "report", &t) < 0 || t != JSON_ARRAY)
			return -1;
		while ((t = json_next(&rd)) == JSON_STRING)
			printf("%s\n", rd.str);
		return t == JSON_ARRAY_END ? 0 : -1;
	}
	if (a->json)
		printf("%.*s\n", (int)an->len, an->text);
	else if (strcmp(a->cmd, "add") == 0)
		printf("%s %s -> %s:%s%s\n", a->pos[0], a->pos[1], a->pos[2], a->pos[3],
		       a->lease != NULL && strcmp(a->lease, "0") != 0 ? "" : " (permanent)");
	else if (strcmp(a->cmd, "del") != 0)
		print_flat(an);
	return 0;
}

/* ok false: each line of "error" on stderr. */
static int
refused(const struct answer *an)
{
	struct json_rd rd;
	enum json_tok t;
	char *line, *save = NULL;

	if (find_member(an, &rd, "error", &t) < 0 || t != JSON_STRING) {
		fprintf(stderr, "igddctl: igdd refused the request\n");
		return EX_REFUSED;
	}
	for (line = strtok_r(rd.str, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "igddctl: %s\n", line);
	return strstr(an->text, "permission denied") != NULL ? EX_DENIED : EX_REFUSED;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct json_out req = { 0 };
	struct answer an = { 0 };
	struct json_rd rd;
	enum json_tok t;
	char *buf = NULL;
	size_t len;
	int rc, fd;

	/* passwd asks no daemon: a command of its own */
	for (rc = 1; rc < argc && strcmp(argv[rc], "-s") == 0; rc += 2)
		;
	if (rc < argc && strcmp(argv[rc], "passwd") == 0)
		return passwd_main(argc - rc, argv + rc);
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = build_request(&a, &req)) != 0)
		return rc;
	if ((fd = connect_to(a.socket)) < 0)
		return -fd;
	rc = exchange(fd, &req, &buf, &len);
	close(fd);
	json_out_free(&req);
	if (rc != 0)
		return rc;
	an.text = buf;
	an.len = len;
	if ((an.str = malloc(STR_MAX)) == NULL)
		return EX_UNREACHABLE;
	if (find_member(&an, &rd, "ok", &t) < 0 || (t != JSON_TRUE && t != JSON_FALSE)) {
		fprintf(stderr, "igddctl: not an answer of igdd's control protocol\n");
		rc = EX_UNREACHABLE;
	} else if (t == JSON_FALSE) {
		rc = refused(&an);
	} else if (show(&a, &an) < 0) {
		fprintf(stderr, "igddctl: an answer igddctl does not understand\n");
		rc = EX_UNREACHABLE;
	}
	free(an.str);
	free(buf);
	return rc;
}
