/* Command-line and whole-machine tests: runs $BUILD/kestrel as a process. Bad input must give
 * one line on stderr, status 1 and no created files; tiny hand-assembled multiboot guests check
 * isa-debug-exit, the 0xe9 console, ACPI power-off, every reset path with and without
 * -no-reboot, a bzImage's entry state and deterministic -icount time across a halt. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define RUN_TIMEOUT_MS 30000

static char tmpdir[64];
static char kestrel[512];

typedef struct Run {
    int status; /* exit status, or 128 + signal, or -1 on timeout */
    char out[4096];
    char err[4096];
} Run;

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char paths[8][128];
    static int next;
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/kestrel-cli-XXXXXX");
        if (!mkdtemp(tmpdir)) abort();
        atexit(remove_tmpdir);
        const char *build = getenv("BUILD");
        snprintf(kestrel, sizeof kestrel, "%s/kestrel", build && *build ? build : "build");
    }
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static void slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Run kestrel with the NULL-terminated arguments, stdin from /dev/null. */
static void run(Run *r, const char *const *args)
{
    const char *out = tmp_path("stdout"), *err = tmp_path("stderr");
    const char *argv[64];
    int n = 0;
    argv[n++] = kestrel;
    for (; *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(kestrel, (char *const *)argv);
        _exit(126);
    }
    int st = 0;
    r->status = -1;
    for (int waited = 0; waited < RUN_TIMEOUT_MS; waited += 5) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    if (r->status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

#define RUN(r, ...) run(r, (const char *const[]){__VA_ARGS__, NULL})

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Exactly one line on stderr, starting "kestrel: ", containing want; status 1. */
static bool one_line_error(const Run *r, const char *want)
{
    size_t len = strlen(r->err);
    bool ok = r->status == 1 && len > 0 && r->err[len - 1] == '\n' &&
              strchr(r->err, '\n') == r->err + len - 1 && !strncmp(r->err, "kestrel: ", 9) &&
              strstr(r->err, want);
    if (!ok) printf("# status %d, stderr: %s", r->status, r->err);
    return ok;
}

static void write_bytes(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(buf, 1, len, f);
    fclose(f);
}

/* A multiboot a.out-kludge kernel: header at 0x100000, code from 0x100020 (the entry). */
static const char *guest(const char *name, const uint8_t *code, size_t len)
{
    uint8_t img[4096];
    const uint32_t h[8] = {0x1badb002, 0x10000,  (uint32_t) - (0x1badb002u + 0x10000),
                           0x100000,   0x100000, 0,
                           0,          0x100020};
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 4; b++)
            img[4 * i + b] = (uint8_t)(h[i] >> (8 * b));
    memcpy(img + 32, code, len);
    const char *path = tmp_path(name);
    write_bytes(path, img, 32 + len);
    return path;
}

/* ---- bad input ---- */

TEST(unknown_option)
{
    Run r;
    RUN(&r, "-foo");
    CHECK(one_line_error(&r, "unknown option '-foo'"));
    CHECK(!strcmp(r.err, "kestrel: unknown option '-foo'\n"));
}

TEST(missing_argument)
{
    Run r;
    RUN(&r, "-kernel");
    CHECK(one_line_error(&r, "'-kernel' needs an argument"));
}

TEST(bad_memory_sizes)
{
    static const char *bad[] = {"abc", "4", "7M", "8G", "-5", "12Q", "1.5.5G", "256,slots=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Run r;
        RUN(&r, "-m", bad[i], "-kernel", "/nonexistent");
        CHECK(one_line_error(&r, "-m"));
    }
}

/* A disk image that cannot be opened is named in the one-line error; nothing is created. */
TEST(missing_disk_image)
{
    Run r;
    static const uint8_t code[] = {0xf4};
    const char *k = guest("disk-k.bin", code, sizeof code);
    char spec[256];
    const char *img = tmp_path("no-such-disk.img");
    snprintf(spec, sizeof spec, "file=%s,format=raw,if=virtio", img);
    RUN(&r, "-kernel", k, "-display", "none", "-drive", spec);
    CHECK(one_line_error(&r, "no-such-disk.img"));
    CHECK(!exists(img));
}

TEST(unsupported_options)
{
    Run r;
    RUN(&r, "-drive", "file=x.img,if=ide");
    CHECK(one_line_error(&r, "if=virtio"));
    RUN(&r, "-netdev", "user,id=n0");
    CHECK(one_line_error(&r, "'user'"));
    RUN(&r, "-s");
    CHECK(one_line_error(&r, "not supported yet"));
    RUN(&r, "-S");
    CHECK(one_line_error(&r, "not supported yet"));
    RUN(&r, "-device", "virtio-blk-pci");
    CHECK(one_line_error(&r, "drive="));
    RUN(&r, "-device", "e1000");
    CHECK(one_line_error(&r, "e1000"));
    RUN(&r, "-device", "isa-debug-exit,iobase=0xf4,bogus=1");
    CHECK(one_line_error(&r, "bogus"));
    RUN(&r, "-device", "isa-debug-exit,iosize=9");
    CHECK(one_line_error(&r, "iosize"));
    RUN(&r, "-icount", "shift=99");
    CHECK(one_line_error(&r, "-icount"));
    RUN(&r, "-icount", "shift=auto");
    CHECK(one_line_error(&r, "auto"));
    RUN(&r, "-accel", "kvm");
    CHECK(one_line_error(&r, "tcg"));
    RUN(&r, "-accel", "tcg,jit=maybe");
    CHECK(one_line_error(&r, "jit"));
    RUN(&r, "-display", "gtk");
    CHECK(one_line_error(&r, "-display"));
    RUN(&r, "-M", "q35");
    CHECK(one_line_error(&r, "pc"));
    RUN(&r, "disk.img");
    CHECK(one_line_error(&r, "disk.img"));
}

TEST(missing_kernel_and_files)
{
    Run r;
    RUN(&r, "-m", "64");
    CHECK(one_line_error(&r, "-kernel"));
    RUN(&r, "-kernel", "/nonexistent/vmlinuz");
    CHECK(one_line_error(&r, "/nonexistent/vmlinuz"));
    const char *text = tmp_path("notakernel");
    write_bytes(text, "hello, world\n", 13);
    RUN(&r, "-kernel", text);
    CHECK(one_line_error(&r, "neither a multiboot kernel nor a Linux bzImage"));
    static const uint8_t hlt[] = {0xf4};
    const char *k = guest("hlt.img", hlt, sizeof hlt);
    RUN(&r, "-kernel", k, "-initrd", "/nonexistent/initrd.gz");
    CHECK(one_line_error(&r, "/nonexistent/initrd.gz"));
    RUN(&r, "-kernel", k, "-d", "bogus");
    CHECK(one_line_error(&r, "bogus"));
    RUN(&r, "-kernel", k, "-serial", "bogus:thing");
    CHECK(one_line_error(&r, "-serial"));
}

TEST(bad_input_creates_no_files)
{
    Run r;
    const char *ser = tmp_path("serial.out"), *dbg = tmp_path("debugcon.out");
    const char *log = tmp_path("log.txt");
    char s1[256], s2[256];
    snprintf(s1, sizeof s1, "file:%s", ser);
    snprintf(s2, sizeof s2, "file:%s", dbg);
    RUN(&r, "-serial", s1, "-debugcon", s2, "-D", log, "-kernel", "/nonexistent/k");
    CHECK(one_line_error(&r, "/nonexistent/k"));
    CHECK(!exists(ser));
    CHECK(!exists(dbg));
    CHECK(!exists(log));
    RUN(&r, "-serial", s1, "-D", log, "-m", "4", "-kernel", "/nonexistent/k");
    CHECK(one_line_error(&r, "-m"));
    CHECK(!exists(ser));
    CHECK(!exists(log));
}

TEST(help_and_version)
{
    Run r;
    RUN(&r, "-h");
    CHECK_EQ(r.status, 0);
    CHECK(strstr(r.out, "-kernel") != NULL);
    RUN(&r, "--help");
    CHECK_EQ(r.status, 0);
    RUN(&r, "-version");
    CHECK_EQ(r.status, 0);
    CHECK(strstr(r.out, "kestrel") != NULL);
    RUN(&r, "-d", "help");
    CHECK_EQ(r.status, 0);
    CHECK(strstr(r.out, "unimp") != NULL);
}

/* ---- guests ---- */

/* cmp $0x2badb002,%eax; jne bad; in $0xe9,%al; cmp $0xe9,%al; jne bad; print "hi\n" on 0xe9;
 * mov $0x2a,%al; mov $0x501,%dx; out %al,%dx; bad: mov $0x7f,%al; out %al,$0xf4 */
static const uint8_t debug_guest[] = {
    0x3d, 0x02, 0xb0, 0xad, 0x2b, 0x75, 0x19, 0xe4, 0xe9, 0x3c, 0xe9, 0x75,
    0x13, 0xb0, 0x68, 0xe6, 0xe9, 0xb0, 0x69, 0xe6, 0xe9, 0xb0, 0x0a, 0xe6,
    0xe9, 0xb0, 0x2a, 0x66, 0xba, 0x01, 0x05, 0xee, 0xb0, 0x7f, 0xe6, 0xf4,
};

TEST(debug_exit_and_debugcon)
{
    const char *k = guest("debug.img", debug_guest, sizeof debug_guest);
    Run r;
    /* QEMU's default isa-debug-exit port is 0x501. */
    RUN(&r, "-kernel", k, "-display", "none", "-debugcon", "stdio", "-device", "isa-debug-exit");
    CHECK_EQ(r.status, (0x2a << 1) | 1);
    CHECK(!strcmp(r.out, "hi\n"));
    /* To a file, with -nographic sharing stdio with the serial port. */
    const char *f = tmp_path("dbg.txt");
    char spec[256];
    snprintf(spec, sizeof spec, "file:%s", f);
    RUN(&r, "-kernel", k, "-nographic", "-debugcon", spec, "-device",
        "isa-debug-exit,iobase=0x501,iosize=2");
    CHECK_EQ(r.status, 85);
    char buf[64];
    slurp(f, buf, sizeof buf);
    CHECK(!strcmp(buf, "hi\n"));
    RUN(&r, "-kernel", k, "-nographic", "-debugcon", "stdio", "-device", "isa-debug-exit");
    CHECK_EQ(r.status, 85);
    CHECK(!strcmp(r.out, "hi\n"));
}

/* mov $'p',%al; out %al,$0xe9; mov $0x604,%dx; mov $0x2000,%ax; out %ax,%dx; 1: jmp 1b */
static const uint8_t poweroff_guest[] = {
    0xb0, 0x70, 0xe6, 0xe9, 0x66, 0xba, 0x04, 0x06, 0x66, 0xb8, 0x00, 0x20, 0x66, 0xef, 0xeb, 0xfe,
};

TEST(acpi_poweroff)
{
    const char *k = guest("off.img", poweroff_guest, sizeof poweroff_guest);
    Run r;
    RUN(&r, "-kernel", k, "-display", "none", "-debugcon", "stdio");
    CHECK_EQ(r.status, 0);
    CHECK(!strcmp(r.out, "p"));
    CHECK(!strcmp(r.err, ""));
}

/* Counts boots in CMOS byte 0x40 (NVRAM survives resets; the kernel image is reloaded) and
 * resets a different way each time: 1 port 0xcf9, 2 i8042 0xfe, 3 port 0x92, 4 triple fault;
 * boot 5 checks EAX = multiboot magic again and exits with the count (status 11). */
static const uint8_t reset_guest[] = {
    0x89, 0xc7, 0xbc, 0x00, 0x00, 0x09, 0x00, 0xb0, 0x40, 0xe6, 0x70, 0xe4, 0x71, 0xfe, 0xc0, 0x88,
    0xc3, 0xb0, 0x40, 0xe6, 0x70, 0x88, 0xd8, 0xe6, 0x71, 0x80, 0xfb, 0x01, 0x74, 0x1f, 0x80, 0xfb,
    0x02, 0x74, 0x23, 0x80, 0xfb, 0x03, 0x74, 0x24, 0x80, 0xfb, 0x04, 0x74, 0x27, 0x81, 0xff, 0x02,
    0xb0, 0xad, 0x2b, 0x75, 0x04, 0x88, 0xd8, 0xe6, 0xf4, 0xb0, 0x7f, 0xe6, 0xf4, 0xb0, 0x06, 0x66,
    0xba, 0xf9, 0x0c, 0xee, 0xeb, 0xfe, 0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe, 0xe4, 0x92, 0x0c, 0x01,
    0xe6, 0x92, 0xeb, 0xfe, 0x6a, 0x00, 0x6a, 0x00, 0x0f, 0x01, 0x5c, 0x24, 0x02, 0xcc, 0xeb, 0xfe,
};

TEST(reset_paths)
{
    const char *k = guest("reset.img", reset_guest, sizeof reset_guest);
    Run r;
    RUN(&r, "-kernel", k, "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4");
    CHECK_EQ(r.status, (5 << 1) | 1);
    /* Under -no-reboot the first reset (0xcf9) ends the run with status 0, like QEMU. */
    RUN(&r, "-kernel", k, "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-no-reboot");
    CHECK_EQ(r.status, 0);
}

/* Checks the Linux 32-bit entry state (ESI = boot_params at 0x10000, CS 0x10, DS/SS 0x18, IF
 * clear, type_of_loader 0xff, initrd starting with 'R'), prints the command line on 0xe9 and
 * exits with the initrd size. */
static const uint8_t bz_guest[] = {
    0x81, 0xfe, 0x00, 0x00, 0x01, 0x00, 0x75, 0x51, 0x66, 0x8c, 0xc8, 0x66, 0x83, 0xf8, 0x10, 0x75,
    0x48, 0x66, 0x8c, 0xd8, 0x66, 0x83, 0xf8, 0x18, 0x75, 0x3f, 0x66, 0x8c, 0xd0, 0x66, 0x83, 0xf8,
    0x18, 0x75, 0x36, 0x9c, 0x58, 0xa9, 0x00, 0x02, 0x00, 0x00, 0x75, 0x2d, 0x80, 0xbe, 0x10, 0x02,
    0x00, 0x00, 0xff, 0x75, 0x24, 0x8b, 0x9e, 0x18, 0x02, 0x00, 0x00, 0x80, 0x3b, 0x52, 0x75, 0x19,
    0x8b, 0x9e, 0x28, 0x02, 0x00, 0x00, 0x8a, 0x03, 0x84, 0xc0, 0x74, 0x05, 0xe6, 0xe9, 0x43, 0xeb,
    0xf5, 0x8b, 0x86, 0x1c, 0x02, 0x00, 0x00, 0xe6, 0xf4, 0xb0, 0x7f, 0xe6, 0xf4,
};

TEST(bzimage_entry_state)
{
    static uint8_t img[1024 + 512];
    memset(img, 0, sizeof img);
    img[0x1f1] = 1; /* setup: 2 sectors */
    img[0x1f4] = sizeof img / 16 - 64;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    img[0x201] = 0x66;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f; /* 2.15 */
    img[0x207] = 0x02;
    img[0x211] = 1;    /* LOADED_HIGH */
    img[0x216] = 0x10; /* code32_start 0x100000 */
    img[0x22c] = 0xff; /* initrd_addr_max 0x7fffffff */
    img[0x22d] = 0xff;
    img[0x22e] = 0xff;
    img[0x22f] = 0x7f;
    img[0x238] = 0xff; /* cmdline_size 255 */
    memcpy(img + 1024, bz_guest, sizeof bz_guest);
    const char *k = tmp_path("bzImage");
    write_bytes(k, img, sizeof img);
    const char *rd = tmp_path("initrd");
    write_bytes(rd, "Ramdisk", 7);
    Run r;
    RUN(&r, "-kernel", k, "-initrd", rd, "-append", "console=ttyS0 x=1", "-display", "none",
        "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", "32");
    CHECK_EQ(r.status, (7 << 1) | 1);
    CHECK(!strcmp(r.out, "console=ttyS0 x=1"));
}

/* Programs the PICs and a PIT one-shot of 65535 ticks (~55 ms), halts until IRQ0, then prints
 * the PM timer (4 raw bytes on 0xe9) and exits 1 (status 3) if >= 196000 ticks passed. */
static const uint8_t icount_guest[] = {
    0xbc, 0x00, 0x00, 0x09, 0x00, 0xb8, 0xaf, 0x00, 0x10, 0x00, 0x66, 0xa3, 0x00, 0x01, 0x08, 0x00,
    0x66, 0xc7, 0x05, 0x02, 0x01, 0x08, 0x00, 0x10, 0x00, 0x66, 0xc7, 0x05, 0x04, 0x01, 0x08, 0x00,
    0x00, 0x8e, 0xc1, 0xe8, 0x10, 0x66, 0xa3, 0x06, 0x01, 0x08, 0x00, 0x0f, 0x01, 0x1d, 0xc0, 0x00,
    0x10, 0x00, 0xb0, 0x11, 0xe6, 0x20, 0xe6, 0xa0, 0xb0, 0x20, 0xe6, 0x21, 0xb0, 0x28, 0xe6, 0xa1,
    0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x02, 0xe6, 0xa1, 0xb0, 0x01, 0xe6, 0x21, 0xe6, 0xa1, 0xb0, 0xfe,
    0xe6, 0x21, 0xb0, 0xff, 0xe6, 0xa1, 0xb0, 0x30, 0xe6, 0x43, 0xb0, 0xff, 0xe6, 0x40, 0xe6, 0x40,
    0xfb, 0xf4, 0x80, 0x3d, 0xc6, 0x00, 0x10, 0x00, 0x00, 0x74, 0xf6, 0xfa, 0x66, 0xba, 0x08, 0x06,
    0xed, 0x89, 0xc3, 0xb9, 0x04, 0x00, 0x00, 0x00, 0xe6, 0xe9, 0xc1, 0xe8, 0x08, 0xe2, 0xf9, 0x81,
    0xfb, 0xa0, 0xfd, 0x02, 0x00, 0x72, 0x04, 0xb0, 0x01, 0xe6, 0xf4, 0xb0, 0x02, 0xe6, 0xf4, 0xc6,
    0x05, 0xc6, 0x00, 0x10, 0x00, 0x01, 0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf, 0x8d, 0x76, 0x00,
    0xff, 0x07, 0x00, 0x00, 0x08, 0x00, 0x00,
};

TEST(icount_deterministic_idle)
{
    const char *k = guest("icount.img", icount_guest, sizeof icount_guest);
    Run a, b, c;
    RUN(&a, "-kernel", k, "-display", "none", "-debugcon", "stdio", "-device",
        "isa-debug-exit,iobase=0xf4,iosize=4", "-icount", "shift=0");
    RUN(&b, "-kernel", k, "-display", "none", "-debugcon", "stdio", "-device",
        "isa-debug-exit,iobase=0xf4,iosize=4", "-icount", "0,sleep=off");
    CHECK_EQ(a.status, 3);
    CHECK_EQ(b.status, 3);
    CHECK(!memcmp(a.out, b.out, 4));
    /* Host time: the same guest sleeps for real and still sees the time pass. */
    RUN(&c, "-kernel", k, "-display", "none", "-debugcon", "stdio", "-device",
        "isa-debug-exit,iobase=0xf4,iosize=4", "-accel", "tcg,jit=off");
    CHECK_EQ(c.status, 3);
}
