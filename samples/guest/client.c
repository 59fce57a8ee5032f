/* A guest client in C for the echo service (samples/echo/echo.idl), speaking WIRE.md:
   ping(text) is opcode 1 << 16 | 0, log(line) is 1 << 16 | 1; a string is its length
   word, then its UTF-8 bytes padded to a word. The echo portal is at selector 0x100. */
#include "nova.h"

#define ECHO 0x100

static word put_string(word *mr, const char *s)
{
    word n = 0;
    while (s[n])
        n++;
    mr[0] = n;
    char *dst = (char *)&mr[1];
    for (word i = 0; i < (n + 7) / 8 * 8; i++)
        dst[i] = i < n ? s[i] : 0;
    return 1 + (n + 7) / 8;
}

static int same(const char *a, const char *b, word n)
{
    for (word i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

int main(struct utcb *u, word sc)
{
    static const char text[] = "hello from x86-64 code";
    u->mr[0] = 1ul << 16 | 0; /* ping */
    u->items = 1 + put_string(&u->mr[1], text);
    if (nova_call(ECHO, 0) != SUCCESS)
        return 1;
    if (u->mr[0] != 0 || u->mr[1] != sizeof text - 1 || !same((char *)&u->mr[2], text, sizeof text - 1))
        return 2;
    u->mr[0] = 1ul << 16 | 1; /* log, oneway */
    u->items = 1 + put_string(&u->mr[1], "the guest got its echo back");
    return nova_call(ECHO, 0) == SUCCESS ? 0 : 3;
}
