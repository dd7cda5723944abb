/* Character back ends: spec parsing, null, file, unix and tcp sockets, pty, stdio escapes and
 * EOF, and input flow control through the Poller. */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "host/poll.h"

typedef struct {
    uint8_t buf[256];
    size_t len;
    size_t room; /* how much the front end accepts before the test drains it */
} Front;

static size_t fe_can_read(void *o)
{
    Front *f = o;
    return f->room > f->len ? f->room - f->len : 0;
}
static void fe_read(void *o, const uint8_t *b, size_t n)
{
    Front *f = o;
    memcpy(f->buf + f->len, b, n);
    f->len += n;
}

static void pump(Poller *p, int rounds)
{
    for (int i = 0; i < rounds; i++)
        poller_wait(p, 20 * 1000000LL);
}

TEST(spec_parsing)
{
    char err[128];
    Poller p;
    CHECK(poller_init(&p));
    Chardev *c = chr_new_from_spec("null", &p, err, sizeof err);
    CHECK(c != NULL);
    chr_write(c, (const uint8_t *)"x", 1);
    chr_close(c);
    CHECK(chr_new_from_spec("none", &p, err, sizeof err) == NULL);
    CHECK_EQ(err[0], 0);
    CHECK(chr_new_from_spec("bogus", &p, err, sizeof err) == NULL);
    CHECK(err[0] != 0);
    CHECK(chr_new_from_spec("file:", &p, err, sizeof err) == NULL);
    CHECK(err[0] != 0);
    CHECK(chr_new_from_spec("tcp:localhost", &p, err, sizeof err) == NULL);
    CHECK(chr_new_from_spec("tcp::1,server,frob", &p, err, sizeof err) == NULL);
    CHECK(strstr(err, "frob") != NULL);
    CHECK(chr_new_from_spec("file:/nonexistent/dir/x", &p, err, sizeof err) == NULL);
    CHECK(err[0] != 0);
    poller_destroy(&p);
}

TEST(file_output)
{
    char err[128], path[] = "/tmp/kestrel-chr-XXXXXX", spec[64];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    snprintf(spec, sizeof spec, "file:%s", path);
    Chardev *c = chr_new_from_spec(spec, NULL, err, sizeof err);
    CHECK(c != NULL);
    /* Output is gathered until the run loop's flush (or close). */
    chr_write(c, (const uint8_t *)"hel", 3);
    chr_write(c, (const uint8_t *)"lo\n", 3);
    char buf[16] = {0};
    fd = open(path, O_RDONLY);
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    chr_flush_all();
    CHECK_EQ(read(fd, buf, sizeof buf), 6);
    CHECK(!strcmp(buf, "hello\n"));
    chr_write(c, (const uint8_t *)"bye", 3);
    chr_close(c);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), 3);
    CHECK(!strcmp(buf, "bye"));
    close(fd);
    unlink(path);
}

TEST(unix_server_flow_control)
{
    char err[128], path[64], spec[96];
    snprintf(path, sizeof path, "/tmp/kestrel-chr-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "unix:%s,server,nowait", path);
    Poller p;
    CHECK(poller_init(&p));
    Chardev *c = chr_new_from_spec(spec, &p, err, sizeof err);
    CHECK(c != NULL);
    if (!c) {
        printf("# %s\n", err);
        return;
    }
    Front f = {.room = 3};
    chr_set_frontend(c, fe_can_read, fe_read, &f);
    chr_write(c, (const uint8_t *)"lost", 4); /* nobody connected yet */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    CHECK_EQ(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
    pump(&p, 2); /* accept */
    CHECK_EQ(write(s, "abcdefgh", 8), 8);
    pump(&p, 3);
    CHECK_EQ(f.len, 3);
    CHECK(!memcmp(f.buf, "abc", 3));
    pump(&p, 3); /* held back: the fd is not watched while the front end is full */
    CHECK_EQ(f.len, 3);
    f.room = 100;
    chr_accept_input(c);
    CHECK_EQ(f.len, 8);
    CHECK(!memcmp(f.buf, "abcdefgh", 8));
    chr_write(c, (const uint8_t *)"out", 3);
    char buf[8] = {0};
    CHECK_EQ(read(s, buf, sizeof buf), 3);
    CHECK(!strcmp(buf, "out"));
    /* Disconnect and reconnect: the server accepts again. */
    close(s);
    pump(&p, 2);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_EQ(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
    pump(&p, 2);
    CHECK_EQ(write(s, "Z", 1), 1);
    pump(&p, 2);
    CHECK_EQ(f.len, 9);
    close(s);
    chr_close(c);
    CHECK(access(path, F_OK) != 0); /* the socket file is removed */
    poller_destroy(&p);
}

TEST(tcp_client)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(listen(ls, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    char spec[64], err[128];
    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", ntohs(sa.sin_port));
    Poller p;
    CHECK(poller_init(&p));
    Chardev *c = chr_new_from_spec(spec, &p, err, sizeof err);
    CHECK(c != NULL);
    int s = accept(ls, NULL, NULL);
    Front f = {.room = 100};
    chr_set_frontend(c, fe_can_read, fe_read, &f);
    CHECK_EQ(write(s, "ping", 4), 4);
    pump(&p, 2);
    CHECK_EQ(f.len, 4);
    chr_write(c, (const uint8_t *)"pong", 4);
    char buf[8] = {0};
    CHECK_EQ(read(s, buf, sizeof buf), 4);
    close(s);
    pump(&p, 2); /* EOF: disconnects, later output is dropped quietly */
    chr_write(c, (const uint8_t *)"x", 1);
    chr_close(c);
    close(ls);
    poller_destroy(&p);
}

TEST(pty)
{
    char err[128];
    Poller p;
    CHECK(poller_init(&p));
    int saved_err = dup(2), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2); /* the "redirected to" banner */
    Chardev *c = chr_new_from_spec("pty", &p, err, sizeof err);
    dup2(saved_err, 2);
    close(saved_err);
    close(devnull);
    if (!c) {
        printf("# pty unavailable here: %s\n", err);
        poller_destroy(&p);
        return;
    }
    CHECK(!strncmp(c->name, "pty:/dev/", 9));
    int s = open(c->name + 4, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    Front f = {.room = 100};
    chr_set_frontend(c, fe_can_read, fe_read, &f);
    CHECK_EQ(write(s, "k\r", 2), 2);
    pump(&p, 2);
    CHECK_EQ(f.len, 2);
    CHECK(!memcmp(f.buf, "k\r", 2)); /* raw: no CR/LF translation */
    chr_write(c, (const uint8_t *)"ok\n", 3);
    char buf[8] = {0};
    CHECK_EQ(read(s, buf, sizeof buf), 3);
    close(s);
    chr_close(c);
    poller_destroy(&p);
}

TEST(stdio_escapes_and_eof)
{
    int in[2], out[2];
    CHECK_EQ(pipe(in), 0);
    CHECK_EQ(pipe(out), 0);
    fflush(stdout);
    int saved_in = dup(0), saved_out = dup(1);
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(out[1]);
    Poller p;
    poller_init(&p);
    char err[128];
    bool quit = false;
    Chardev *c = chr_new_from_spec("stdio", &p, err, sizeof err);
    CHECK(c != NULL);
    CHECK(chr_new_from_spec("stdio", &p, err, sizeof err) == NULL); /* only one owner */
    c->quit_request = &quit;
    Front f = {.room = 100};
    chr_set_frontend(c, fe_can_read, fe_read, &f);
    CHECK_EQ(write(in[1],
                   "ab\x01"
                   "a"
                   "c\x01"
                   "h",
                   7),
             7);
    pump(&p, 1);
    CHECK_EQ(f.len, 4);
    CHECK(!memcmp(f.buf,
                  "ab\x01"
                  "c",
                  4));
    CHECK(!quit);
    chr_write(c, (const uint8_t *)"G0ut!", 5);
    char buf[512] = {0};
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    CHECK(n > 5);
    CHECK(strstr(buf, "C-a x") != NULL); /* help text */
    CHECK(strstr(buf, "G0ut!") == NULL); /* gathered until the flush */
    chr_flush_all();
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(out[0], buf, sizeof buf - 1), 5);
    CHECK(!strcmp(buf, "G0ut!"));
    CHECK_EQ(write(in[1], "\x01", 1), 1); /* escape split across reads */
    pump(&p, 1);
    CHECK_EQ(write(in[1], "x", 1), 1);
    pump(&p, 1);
    CHECK(quit);
    CHECK_EQ(f.len, 4);
    close(in[1]); /* EOF: input stops, nothing spins */
    pump(&p, 1);
    CHECK(!poller_wait(&p, 0));
    chr_close(c);
    poller_destroy(&p);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    close(saved_in);
    close(saved_out);
    close(out[0]);
}
