/*
 * embed.c - build tool: turn a Lua source file into a C array, so that
 * corral.so and the runner carry their Lua helpers inside.
 *
 *   embed NAME input.lua > output.c
 * writes `const char NAME[]` (NUL-terminated) and `const unsigned long
 * NAME_len` (without the NUL).
 */
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: embed NAME input.lua > output.c\n");
        return 2;
    }
    FILE *in = fopen(argv[2], "rb");
    if (in == NULL) {
        perror(argv[2]);
        return 1;
    }
    printf("/* generated from %s by csrc/tools/embed.c; do not edit */\n", argv[2]);
    printf("const char %s[] = {", argv[1]);
    unsigned long n = 0;
    int c;
    while ((c = fgetc(in)) != EOF) {
        printf("%s%d,", n % 20 == 0 ? "\n  " : "", c);
        n++;
    }
    printf("\n  0};\nconst unsigned long %s_len = %luUL;\n", argv[1], n);
    fclose(in);
    return 0;
}
