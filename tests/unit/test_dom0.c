/* Unit tests of the domain-zero plumbing that needs no KVM: the console mux (ring, log,
 * clients), the control socket protocol, atomic state files, state paths. */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/conmux.h"
#include "lib/atomic_file.h"
#include "manager/domain_files.h"
#include "unit.h"
#include "lib/control.h"

static char tmpdir[64];

static void mktmp(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/domus-unit-XXXXXX");
		if (!mkdtemp(tmpdir))
			abort();
	}
}

static void test_ring(void)
{
	mktmp();
	char sock[96], log[96], err[256];
	snprintf(sock, sizeof(sock), "%s/ring.sock", tmpdir);
	snprintf(log, sizeof(log), "%s/ring.log", tmpdir);
	static struct conmux m;
	CHECK_EQ(conmux_open(&m, sock, log, err, sizeof(err)), 0);
	uint8_t out[16];
	CHECK_EQ(conmux_recent(&m, out, sizeof(out)), 0);
	conmux_output(&m, (const uint8_t *)"hello", 5);
	CHECK_EQ(conmux_recent(&m, out, sizeof(out)), 5);
	CHECK(!memcmp(out, "hello", 5));
	CHECK_EQ(conmux_recent(&m, out, 3), 3);
	CHECK(!memcmp(out, "llo", 3)); /* the newest bytes */
	/* Wrap the ring: it keeps exactly the last CONMUX_RING bytes. */
	static uint8_t big[CONMUX_RING + 100];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	conmux_output(&m, big, sizeof(big));
	static uint8_t back[CONMUX_RING];
	CHECK_EQ(conmux_recent(&m, back, sizeof(back)), CONMUX_RING);
	CHECK(!memcmp(back, big + 100, CONMUX_RING));
	CHECK_EQ(m.total, 5 + sizeof(big));

	/* A client that connects gets the ring, then live output; its input reaches the guest. */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(conmux_handle(&m, m.listen_fd), 1);
	static uint8_t got[CONMUX_RING];
	size_t n = 0;
	while (n < CONMUX_RING) {
		ssize_t r = recv(c, got + n, CONMUX_RING - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	CHECK_EQ(n, CONMUX_RING);
	CHECK(!memcmp(got, back, CONMUX_RING));
	/* Guest output through the pipe, as the UART writes it. */
	CHECK_EQ(write(m.guest_out_wr, "tick\n", 5), 5);
	CHECK_EQ(conmux_handle(&m, m.guest_out_rd), 1);
	char line[8] = "";
	CHECK_EQ(recv(c, line, sizeof(line), 0), 5);
	CHECK(!memcmp(line, "tick\n", 5));
	CHECK_EQ(send(c, "ls\r", 3, 0), 3);
	CHECK_EQ(conmux_handle(&m, c), 0); /* not the mux's own fd number ... */
	int fds[CONMUX_MAX_CLIENTS + 2];
	size_t nf = conmux_fds(&m, fds);
	CHECK_EQ(nf, 3);
	CHECK_EQ(conmux_handle(&m, fds[2]), 1); /* ... its accepted client is */
	char in[8] = "";
	CHECK_EQ(read(m.guest_in_rd, in, sizeof(in)), 3);
	CHECK(!memcmp(in, "ls\r", 3));
	close(c);
	CHECK_EQ(conmux_handle(&m, fds[2]), 1); /* EOF drops the client */
	CHECK_EQ(conmux_fds(&m, fds), 2);
	conmux_close(&m);
	/* The log has everything, in order. */
	size_t len = 0;
	char *text = read_small_file(log, 1 << 20, &len);
	CHECK(text != NULL);
	CHECK_EQ(len, 5 + sizeof(big) + 5);
	if (text && len == 5 + sizeof(big) + 5) {
		CHECK(!memcmp(text, "hello", 5));
		CHECK(!memcmp(text + 5, big, sizeof(big)));
		CHECK(!memcmp(text + 5 + sizeof(big), "tick\n", 5));
	}
	free(text);
	unlink(log);
	unlink(sock);
}

struct server {
	struct control ctl;
	int stop;
	int pauses;
};

static int handle(void *ctx, const char *cmd, struct json_object *reply, char *err, size_t errlen)
{
	struct server *s = ctx;
	if (!strcmp(cmd, "pause")) {
		s->pauses++;
		return 0;
	}
	if (!strcmp(cmd, "status")) {
		json_object_object_add(reply, "pauses", json_object_new_int(s->pauses));
		return 0;
	}
	snprintf(err, errlen, "unknown command '%s'", cmd);
	return -1;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
		int fds[CONTROL_MAX_CLIENTS + 1];
		size_t n = control_fds(&s->ctl, fds);
		for (size_t i = 0; i < n; i++)
			control_handle(&s->ctl, fds[i]);
		usleep(1000);
	}
	return NULL;
}

static void test_control(void)
{
	mktmp();
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/control.sock", tmpdir);
	static struct server s;
	CHECK_EQ(control_open(&s.ctl, path, handle, &s, err, sizeof(err)), 0);
	pthread_t t;
	pthread_create(&t, NULL, serve, &s);
	struct json_object *o = control_call(path, "pause", 2000, err, sizeof(err));
	CHECK(o != NULL);
	struct json_object *v;
	CHECK(o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v));
	if (o)
		json_object_put(o);
	o = control_call(path, "status", 2000, err, sizeof(err));
	CHECK(o && json_object_object_get_ex(o, "pauses", &v) && json_object_get_int(v) == 1);
	if (o)
		json_object_put(o);
	o = control_call(path, "fly", 2000, err, sizeof(err));
	CHECK(o && json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	CHECK(o && json_object_object_get_ex(o, "error", &v) &&
	      strstr(json_object_get_string(v), "fly"));
	if (o)
		json_object_put(o);
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	control_close(&s.ctl);
	/* Nobody listening: a clear error, no hang. */
	o = control_call(path, "status", 500, err, sizeof(err));
	CHECK(o == NULL);
	CHECK(strstr(err, "control.sock") != NULL);
	unlink(path);
}

static void test_atomic_file(void)
{
	mktmp();
	char path[160], dir[128];
	snprintf(dir, sizeof(dir), "%s/a/b/c", tmpdir);
	CHECK_EQ(make_dirs(dir, 0755), 0);
	CHECK_EQ(make_dirs(dir, 0755), 0); /* exists: fine */
	snprintf(path, sizeof(path), "%s/state.json", dir);
	CHECK_EQ(atomic_write_file(path, "{\"a\":1}", 7, 0644), 0);
	CHECK_EQ(atomic_write_file(path, "{}", 2, 0644), 0);
	size_t len;
	char *s = read_small_file(path, 100, &len);
	CHECK(s && len == 2 && !strcmp(s, "{}"));
	free(s);
	/* No temporary files left beside it. */
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	CHECK(access(tmp, F_OK) < 0);
	static char big[10000];
	memset(big, 'x', sizeof(big));
	CHECK_EQ(atomic_write_file(path, big, sizeof(big), 0644), 0);
	s = read_small_file(path, 100, &len);
	CHECK(s == NULL && errno == EFBIG);
	s = read_small_file(path, sizeof(big), &len);
	CHECK(s && len == sizeof(big));
	free(s);
	snprintf(tmp, sizeof(tmp), "%s/no/such/dir/x", tmpdir);
	CHECK_EQ(atomic_write_file(tmp, "x", 1, 0644), -ENOENT);
	unlink(path);
}

static void test_paths(void)
{
	struct domus_paths p;
	char sock[256];
	unsetenv("DOMUS_LIB_DIR");
	unsetenv("DOMUS_RUN_DIR");
	unsetenv("DOMUS_SOCKET");
	unsetenv("DOMUS_STATE_DIR");
	domus_paths_init(&p, NULL);
	CHECK_STR(p.lib, "/var/lib/domus");
	CHECK_STR(p.run, "/run/domus");
	setenv("DOMUS_STATE_DIR", "/tmp/st", 1);
	domus_paths_init(&p, NULL);
	CHECK_STR(p.run, "/tmp/st/run");
	domus_api_socket(&p, sock, sizeof(sock));
	CHECK_STR(sock, "/tmp/st/run/domusd.sock");
	setenv("DOMUS_RUN_DIR", "/r", 1);
	domus_paths_init(&p, NULL);
	CHECK_STR(p.lib, "/tmp/st/lib");
	CHECK_STR(p.run, "/r");
	domus_paths_init(&p, "/opt/x"); /* an explicit option wins over the environment */
	CHECK_STR(p.run, "/opt/x/run");
	setenv("DOMUS_SOCKET", "/s.sock", 1);
	domus_api_socket(&p, sock, sizeof(sock));
	CHECK_STR(sock, "/s.sock");
	unsetenv("DOMUS_SOCKET");
	unsetenv("DOMUS_RUN_DIR");
	unsetenv("DOMUS_STATE_DIR");
}

static void cleanup(void)
{
	char dir[128];
	const char *subs[] = { "a/b/c", "a/b", "a", "" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", tmpdir, subs[i]);
		rmdir(dir);
	}
}

UNIT_MAIN(test_ring, test_control, test_atomic_file, test_paths, cleanup)
