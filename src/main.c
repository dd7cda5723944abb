/* kestrel command line: parses QEMU-style options, builds the machine and runs it. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "kestrel: no machine yet\n");
    return 1;
}
