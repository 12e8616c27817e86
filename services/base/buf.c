/*  buf.c - growable byte buffer (see buf.h)
*/
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
dt_buf_reserve (dt_buf_t *self, size_t extra)
{
    size_t need = self->size + extra;
    if (need <= self->alloc)
        return;
    size_t alloc = self->alloc? self->alloc: 256;
    while (alloc < need)
        alloc *= 2;
    char *data = realloc (self->data, alloc);
    if (!data)
        abort ();       //  out of memory is not a condition we can answer
    self->data = data;
    self->alloc = alloc;
}

void
dt_buf_free (dt_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->size = self->alloc = 0;
}

void
dt_buf_printf (dt_buf_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int len = vsnprintf (NULL, 0, format, args);
    va_end (args);
    if (len <= 0)
        return;
    dt_buf_reserve (self, (size_t) len + 1);
    va_start (args, format);
    vsnprintf (self->data + self->size, (size_t) len + 1, format, args);
    va_end (args);
    self->size += (size_t) len;
}

void
dt_buf_put_uint (dt_buf_t *self, uint64_t value)
{
    char digits [20];
    size_t count = 0;
    do {
        digits [sizeof digits - ++count] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    dt_buf_append (self, digits + sizeof digits - count, count);
}

void
dt_buf_put_int (dt_buf_t *self, int64_t value)
{
    if (value < 0) {
        dt_buf_putc (self, '-');
        //  Negated as unsigned, so INT64_MIN has a magnitude
        dt_buf_put_uint (self, 0 - (uint64_t) value);
    }
    else
        dt_buf_put_uint (self, (uint64_t) value);
}

int
dt_buf_msgpack_write (void *data, const char *buf, size_t len)
{
    dt_buf_append ((dt_buf_t *) data, buf, len);
    return 0;
}
