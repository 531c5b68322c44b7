/* The CLI's side of the domusd API: one HTTP/1.1 request per connection to RUN/domusd.sock
 * (see manager/domain_files.h for where that is), JSON in and out. */
#ifndef DOMUS_API_CLIENT_H
#define DOMUS_API_CLIENT_H
#include <stddef.h>

struct json_object;

/* Send METHOD path with an optional JSON body. Returns the HTTP status with the reply's JSON in
 * *out (the caller puts it), or -1 with err set when domusd cannot be reached or answered
 * nonsense; err then says how to start domusd. */
int api_call(const char *method, const char *path, struct json_object *body,
	     struct json_object **out, char *err, size_t errlen);
/* The "error" of a reply, or a stand-in. */
const char *api_error(struct json_object *reply);
/* api_call that prints `domus: <what>: <error>` on any failure and returns NULL; on a 2xx
 * status returns the reply. */
struct json_object *api_do(const char *what, const char *method, const char *path,
			   struct json_object *body);
/* Small helpers to read replies. */
const char *json_str(struct json_object *o, const char *key, const char *def);
long long json_int(struct json_object *o, const char *key, long long def);
double json_num(struct json_object *o, const char *key, double def);

/* Whether ref, a domain name or ID as the user typed it, may stand in an API path; when not,
 * prints `domus: VERB: no domain 'REF' (a name or a domain ID)` and returns 0. */
int api_ref_ok(const char *verb, const char *ref);
/* Whether d, a domain of GET /v1/domains, is ref: by name or by domain ID. */
int api_domain_is(struct json_object *d, const char *ref);
/* Whether each of refs[0..n) is a domain of the list doms; prints `domus: VERB: no domain
 * 'REF'` for each that is not and returns 0 then, else 1. */
int api_domains_found(const char *verb, struct json_object *doms, int n, char **refs);

#endif
