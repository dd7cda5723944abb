/* kt formatted output: a small vsnprintf (%d %i %u %x %X %p %s %c %%, flags '0' '-', width,
 * l and ll) for the debug console; no floating point, the tests build with general regs only. */
#include "kt.h"

struct out {
    char *buf;
    size_t size, n;
};

static void put(struct out *o, char c)
{
    if (o->n + 1 < o->size) o->buf[o->n] = c;
    o->n++;
}

static void put_num(struct out *o, unsigned long long v, int neg, unsigned base, int upper,
                    int width, char pad, int left)
{
    char tmp[24];
    int len = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[len++] = digits[v % base];
        v /= base;
    } while (v);
    int total = len + (neg ? 1 : 0);
    if (neg && pad == '0') put(o, '-');
    if (!left)
        for (; total < width; total++)
            put(o, pad);
    if (neg && pad != '0') put(o, '-');
    while (len)
        put(o, tmp[--len]);
    if (left)
        for (; total < width; total++)
            put(o, ' ');
}

int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int left = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '0')
                pad = '0';
            else if (*fmt == '-')
                left = 1;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        unsigned long long u;
        long long s;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            u = s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s;
            put_num(&o, u, s < 0, 10, 0, width, pad, left);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng >= 2 ? va_arg(ap, unsigned long long)
                : lng    ? va_arg(ap, unsigned long)
                         : va_arg(ap, unsigned);
            put_num(&o, u, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, left);
            break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, 8, '0', 0);
            break;
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            int len = 0;
            while (str[len])
                len++;
            if (!left)
                for (int i = len; i < width; i++)
                    put(&o, ' ');
            for (int i = 0; i < len; i++)
                put(&o, str[i]);
            if (left)
                for (int i = len; i < width; i++)
                    put(&o, ' ');
            break;
        }
        case '%': put(&o, '%'); break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            if (!*fmt) fmt--;
            break;
        }
    }
    if (size) o.buf[o.n < size ? o.n : size - 1] = 0;
    return (int)o.n;
}

int kt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
