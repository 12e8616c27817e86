/*  buf.h - a growable byte buffer, and a msgpack packer that writes into it.
    Hot paths reuse one buffer (dt_buf_reset) instead of allocating per event.
*/
#ifndef DT_BUF_H
#define DT_BUF_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    size_t size;
    size_t alloc;
} dt_buf_t;

void dt_buf_reserve (dt_buf_t *self, size_t extra);
void dt_buf_free (dt_buf_t *self);

static inline void
dt_buf_reset (dt_buf_t *self)
{
    self->size = 0;
}

static inline void
dt_buf_append (dt_buf_t *self, const void *data, size_t size)
{
    if (size == 0)
        return;                 //  data may be NULL then (msgpack's empty strings)
    if (self->size + size > self->alloc)
        dt_buf_reserve (self, size);
    memcpy (self->data + self->size, data, size);
    self->size += size;
}

static inline void
dt_buf_putc (dt_buf_t *self, char c)
{
    if (self->size + 1 > self->alloc)
        dt_buf_reserve (self, 1);
    self->data [self->size++] = c;
}

//  A C string, without its terminator
static inline void
dt_buf_puts (dt_buf_t *self, const char *text)
{
    dt_buf_append (self, text, strlen (text));
}

//  Decimal integers, without printf (hot paths write many)
void dt_buf_put_uint (dt_buf_t *self, uint64_t value);
void dt_buf_put_int (dt_buf_t *self, int64_t value);

void dt_buf_printf (dt_buf_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  msgpack write callback: msgpack_packer_init (&pk, buf, dt_buf_msgpack_write)
int dt_buf_msgpack_write (void *data, const char *buf, size_t len);

#endif
