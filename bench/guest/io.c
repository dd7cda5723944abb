/* kbench: disk, display and network benchmarks, the network peer (--serve), and blended. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kbench.h"

#define KiB 1024L
#define MiB (1024L * 1024L)

/* ---- disk --------------------------------------------------------------------------------- */

#define SEQ_BLOCK (64 * KiB)
#define RND_BLOCK (4 * KiB)

static int disk_fd = -1, disk_direct;
static long disk_area; /* bytes used, a multiple of 1 MiB */
static char *disk_buf;
static const char *disk_err;

static const char *disk_open(void)
{
    if (disk_fd >= 0 || disk_err) return disk_err;
    if (!opt.disk) return disk_err = "no --disk given";
    disk_area = scaled(64 * MiB) & ~(MiB - 1);
    if (disk_area < 4 * MiB) disk_area = 4 * MiB;
    struct stat st;
    int blk = stat(opt.disk, &st) == 0 && S_ISBLK(st.st_mode);
    disk_direct = 1;
    int fd = open(opt.disk, O_RDWR | O_CREAT | O_DIRECT, 0644);
    if (fd < 0 && errno == EINVAL) {
        disk_direct = 0;
        fd = open(opt.disk, O_RDWR | O_CREAT, 0644);
    }
    if (fd < 0) return disk_err = "cannot open the --disk path";
    if (blk) {
        uint64_t size = 0;
        if (ioctl(fd, BLKGETSIZE64, &size) == 0 && (long long)size < disk_area)
            disk_area = (long)(size & ~(uint64_t)(MiB - 1));
        if (disk_area < MiB) {
            close(fd);
            return disk_err = "block device smaller than 1 MiB";
        }
    }
    /* A file is made as large as the area, so reads alone (--only) find data there too. */
    if (!blk && fstat(fd, &st) == 0 && st.st_size < disk_area && ftruncate(fd, disk_area)) {
        close(fd);
        return disk_err = "cannot size the --disk file";
    }
    const char *fs = "";
    struct statfs sf;
    if (!blk && fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC) fs = " on tmpfs";
    if (posix_memalign((void **)&disk_buf, 4096, SEQ_BLOCK)) {
        close(fd);
        return disk_err = "out of memory";
    }
    for (long i = 0; i < SEQ_BLOCK; i++) disk_buf[i] = (char)(i * 131 + (i >> 9));
    disk_fd = fd;
    note("disk %s: %s%s, %s, %ld MiB", opt.disk, blk ? "block device" : "file", fs,
         disk_direct ? "O_DIRECT" : "buffered, cache dropped before reads", disk_area / MiB);
    return 0;
}

void disk_cleanup(void)
{
    if (disk_fd >= 0) close(disk_fd);
    disk_fd = -1;
}

static int disk_io(int write, long off, long len)
{
    ssize_t n = write ? pwrite(disk_fd, disk_buf, len, off) : pread(disk_fd, disk_buf, len, off);
    return n == len ? 0 : -1;
}

/* Buffered mode: push the area out of the page cache so reads go to the device. */
static void disk_drop_cache(void)
{
    if (disk_direct) return;
    fdatasync(disk_fd);
    posix_fadvise(disk_fd, 0, disk_area, POSIX_FADV_DONTNEED);
}

static const char *disk_sequential(int write, uint64_t *ns)
{
    const char *err = disk_open();
    if (err) return err;
    if (!write) disk_drop_cache();
    uint64_t t0 = now_ns();
    for (long off = 0; off < disk_area; off += SEQ_BLOCK)
        if (disk_io(write, off, SEQ_BLOCK)) return write ? "write failed" : "read failed";
    if (write && fdatasync(disk_fd)) return "fdatasync failed";
    *ns = now_ns() - t0;
    return 0;
}

static const char *disk_random(int write, uint64_t *ns)
{
    const char *err = disk_open();
    if (err) return err;
    if (!write) disk_drop_cache();
    long n = scaled(2000), blocks = disk_area / RND_BLOCK;
    uint32_t x = write ? 99 : 17;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        if (disk_io(write, (long)((x >> 8) % blocks) * RND_BLOCK, RND_BLOCK))
            return write ? "write failed" : "read failed";
    }
    if (write && fdatasync(disk_fd)) return "fdatasync failed";
    *ns = now_ns() - t0;
    return 0;
}

const char *b_disk_write_sequential(uint64_t *ns) { return disk_sequential(1, ns); }
const char *b_disk_write_random(uint64_t *ns) { return disk_random(1, ns); }
const char *b_disk_read_sequential(uint64_t *ns) { return disk_sequential(0, ns); }
const char *b_disk_read_random(uint64_t *ns) { return disk_random(0, ns); }

/* ---- display ------------------------------------------------------------------------------ */

/* Lines of text written one write() each to standard output: the serial console in a guest,
 * a pseudo-terminal natively (bench/suite). */
const char *b_display(uint64_t *ns)
{
    long n = scaled(16000);
    char line[81];
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line, "~display %06ld ", i);
        for (int k = len; k < 79; k++) line[k] = 'a' + (i + k) % 26;
        line[79] = '\n';
        if (write(1, line, 80) != 80) return "write to stdout failed";
    }
    *ns = now_ns() - t0;
    return 0;
}

/* ---- network ------------------------------------------------------------------------------ */

static int peer_connect(const char **err)
{
    static struct sockaddr_in addr;
    static int warmed, unreachable;
    if (unreachable) {
        *err = "cannot connect to the --net peer";
        return -1;
    }
    if (!addr.sin_family) {
        char host[64];
        const char *colon = strrchr(opt.net, ':');
        if (!colon || colon - opt.net >= (long)sizeof host) {
            *err = "--net wants ADDRESS:PORT";
            return -1;
        }
        memcpy(host, opt.net, colon - opt.net);
        host[colon - opt.net] = 0;
        if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
            *err = "--net wants a numeric IPv4 address";
            return -1;
        }
        addr.sin_port = htons(atoi(colon + 1));
        addr.sin_family = AF_INET;
    }
    /* The first connection may wait for the peer (another machine still booting). */
    for (int tries = 0;; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            *err = "socket failed";
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
            warmed = 1;
            return fd;
        }
        close(fd);
        if (warmed || tries >= 120) {
            unreachable = !warmed;
            *err = "cannot connect to the --net peer";
            return -1;
        }
        usleep(250000);
    }
}

static int read_full(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += n;
    }
    return 0;
}

/* One exchange per connection: connect, one byte each way, the server closes. */
static const char *net_exchange(void)
{
    const char *err = 0;
    int fd = peer_connect(&err);
    if (fd < 0) return err;
    char c = 'L';
    if (write(fd, &c, 1) != 1 || read_full(fd, &c, 1) || c != 'l') err = "bad reply from the peer";
    while (!err && read(fd, &c, 1) > 0) {
    }
    close(fd);
    return err;
}

const char *b_net_latency(uint64_t *ns)
{
    if (!opt.net) return opt.no_net ? opt.no_net : "no network peer (--net)";
    const char *err = net_exchange(); /* waits for the peer; not timed */
    if (err) return err;
    long n = scaled(300);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if ((err = net_exchange())) return err;
    *ns = now_ns() - t0;
    return 0;
}

const char *b_net_throughput(uint64_t *ns)
{
    if (!opt.net) return opt.no_net ? opt.no_net : "no network peer (--net)";
    const char *err = net_exchange();
    if (err) return err;
    static char buf[64 * KiB];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 7);
    uint64_t total = scaled(128 * MiB), got;
    uint64_t t0 = now_ns();
    int fd = peer_connect(&err);
    if (fd < 0) return err;
    char c = 'T';
    if (write(fd, &c, 1) != 1) err = "write failed";
    for (uint64_t sent = 0; !err && sent < total;) {
        size_t len = total - sent < sizeof buf ? total - sent : sizeof buf;
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) err = "write failed";
        else sent += n;
    }
    if (!err) shutdown(fd, SHUT_WR);
    if (!err && (read_full(fd, &got, sizeof got) || got != total)) err = "the peer lost data";
    close(fd);
    *ns = now_ns() - t0;
    note("network %s: %llu MiB", opt.net, (unsigned long long)(total / MiB));
    return err;
}

int serve(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 64)) {
        perror("kbench --serve");
        return 1;
    }
    printf("kbench-serve: listening on %d\n", port);
    fflush(stdout);
    static char buf[64 * KiB];
    for (;;) {
        int fd = accept(ls, 0, 0);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char c;
        if (read_full(fd, &c, 1) == 0) {
            if (c == 'L') {
                c = 'l';
                if (write(fd, &c, 1) != 1) {
                }
            } else if (c == 'T') {
                uint64_t total = 0;
                ssize_t n;
                while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                    if (n > 0) total += n;
                if (write(fd, &total, sizeof total) != sizeof total) {
                }
            }
        }
        close(fd);
    }
}

/* ---- blended ------------------------------------------------------------------------------ */

/* A busybox pipeline: generate records (seq, awk with floating-point arithmetic), sort them,
 * compress and decompress (gzip), checksum (md5sum). Same busybox natively and in guests. */
const char *b_blended(uint64_t *ns)
{
    if (access(opt.busybox, X_OK)) return "no busybox (--busybox)";
    char n[32], script[512];
    snprintf(n, sizeof n, "%ld", scaled(11000));
    snprintf(script, sizeof script,
             "B=%s; $B seq 1 %s | $B awk '{ printf \"%%d %%.3f %%s\\n\", ($1 * 7919) %% 100003,"
             " $1 / 7, $1 }' | $B sort -n | $B gzip -c | $B gzip -dc | $B md5sum",
             opt.busybox, n);
    int p[2];
    if (pipe(p)) return "pipe failed";
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(opt.busybox, "busybox", "sh", "-c", script, (char *)0);
        _exit(127);
    }
    close(p[1]);
    char out[128] = "";
    ssize_t len = read_full(p[0], out, 32) ? -1 : 32;
    char rest[64];
    while (read(p[0], rest, sizeof rest) > 0) {
    }
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    *ns = now_ns() - t0;
    if (len != 32 || !WIFEXITED(st) || WEXITSTATUS(st)) return "the pipeline failed";
    out[32] = 0;
    note("blended md5 %s", out);
    return 0;
}
