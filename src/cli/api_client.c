#include "cli/api_client.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "manager/domain_files.h"
#include "lib/log.h"

#define REPLY_MAX (16u << 20)
#define REPLY_TIMEOUT_MS 180000 /* create waits for the monitor, destroy for its end */

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int api_call(const char *method, const char *path, struct json_object *body,
	     struct json_object **out, char *err, size_t errlen)
{
	struct domus_paths paths;
	char sock[PATH_MAX];
	domus_paths_init(&paths, NULL);
	domus_api_socket(&paths, sock, sizeof(sock));
	*out = NULL;

	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket", sock);
		return -1;
	}
	strcpy(a.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(err, errlen,
			 "cannot reach domusd at %s: %s; is domusd running? (start it with "
			 "`domusd`; DOMUS_STATE_DIR selects another state directory)",
			 sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char *b = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "";
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: domusd\r\nConnection: close\r\n"
			  "Accept: application/json\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, strlen(b));
	if (hl < 0 || (size_t)hl >= sizeof(head) || send_all(fd, head, (size_t)hl) < 0 ||
	    send_all(fd, b, strlen(b)) < 0) {
		snprintf(err, errlen, "domusd at %s: cannot send the request: %s", sock,
			 strerror(errno));
		close(fd);
		return -1;
	}
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "domusd at %s did not answer %s %s", sock, method,
				 path);
			free(buf);
			close(fd);
			return -1;
		}
		if (got == cap) {
			char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2 + 1) : NULL;
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	buf[got] = 0;
	int status = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status < 100 || !sep) {
		snprintf(err, errlen, "domusd at %s gave no HTTP reply to %s %s", sock, method,
			 path);
		free(buf);
		return -1;
	}
	*out = json_tokener_parse(sep + 4);
	free(buf);
	return status;
}

const char *api_error(struct json_object *reply)
{
	return json_str(reply, "error", "domusd gave no reason");
}

struct json_object *api_do(const char *what, const char *method, const char *path,
			   struct json_object *body)
{
	char err[1024];
	struct json_object *out;
	int status = api_call(method, path, body, &out, err, sizeof(err));
	if (status < 0) {
		log_err("%s: %s", what, err);
		return NULL;
	}
	if (status / 100 != 2) {
		log_err("%s: %s", what, api_error(out));
		if (out)
			json_object_put(out);
		return NULL;
	}
	if (!out)
		out = json_object_new_object();
	return out;
}

const char *json_str(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return def;
}

long long json_int(struct json_object *o, const char *key, long long def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return (long long)json_object_get_int64(v);
	return def;
}

double json_num(struct json_object *o, const char *key, double def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return json_object_get_double(v);
	return def;
}

int api_ref_ok(const char *verb, const char *ref)
{
	size_t n = strlen(ref);
	if (n == 0 || n > 100 || strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789._-") != n) {
		log_err("%s: no domain '%s' (a name or a domain ID)", verb, ref);
		return 0;
	}
	return 1;
}

int api_domain_is(struct json_object *d, const char *ref)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", json_int(d, "domid", -1));
	return !strcmp(ref, json_str(d, "name", "")) || !strcmp(ref, id);
}

int api_domains_found(const char *verb, struct json_object *doms, int n, char **refs)
{
	int all = 1;
	for (int k = 0; k < n; k++) {
		int found = 0;
		for (size_t j = 0; j < json_object_array_length(doms); j++)
			if (api_domain_is(json_object_array_get_idx(doms, j), refs[k]))
				found = 1;
		if (!found) {
			log_err("%s: no domain '%s'", verb, refs[k]);
			all = 0;
		}
	}
	return all;
}
