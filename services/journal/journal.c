/*  journal.c - durable store-and-forward journal of a track daemon

    See journal.h for the contract and the on-disk layout. The invariants the
    code below keeps, because recovery depends on them:

    - Records are contiguous: inside a segment each record's seq is the previous
      one plus one, and the first is the segment's name. A segment ends where
      the next one starts, unless a *.damaged file (left by a salvage) explains
      the gap.
    - Segments are only deleted from the front, and only when every record in
      them is confirmed. So "first segment's name - 1" is a lower bound of the
      confirm mark that survives losing the `confirmed` file.
    - The newest segment is never deleted: its name (or its last record) is the
      seq floor, so seqs continue across restarts even with nothing left.
    - A segment is fdatasync'ed before the next one is created, so after any
      crash only the newest segment can have a torn tail.
    - Cursors return only synced records: nothing a crash can take back is ever
      forwarded, so a seq seen downstream is never handed out again.
    - A confirmed segment is recycled rather than deleted (up to SPARES_MAX
      wait as *.spare): the next segment is that file renamed, its blocks
      already allocated and written. Deleting a 64 MiB file took ~23 ms in
      unlink() on ext4 here, a stall of every request of the daemon, and a
      new file's first writes convert extents, a metadata commit per sync.
      A reused file holds stale bytes after the new records, so whenever the
      records end before the file does, a sync also writes an end mark (16
      zero bytes: no record has seq 0) after them; recovery stops there.
*/
#include "journal/journal.h"
#include "base/crc32c.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_SEGMENT_BYTES   (64ull << 20)
#define DEFAULT_MAX_BYTES       (1ull << 30)
#define SEG_SUFFIX              ".seg"
#define SPARE_SUFFIX            ".spare"
#define SPARES_MAX              2
#define DAMAGED_SUFFIX          ".damaged"
#define MARK_FILE               "confirmed"
#define MARK_LINE               40      //  "confirmed <20 digits> <8 hex>\n"
#define LOCK_FILE               "LOCK"
#define CURSOR_BUFFER           (256 * 1024)

typedef struct {
    uint64_t first;             //  seq of its first record, and its name
    uint64_t next;              //  seq after its last record (= first if empty)
    uint64_t size;              //  bytes of intact records
} segment_t;

struct _dt_journal_t {
    char *dir;
    int dirfd;
    int lockfd;
    int markfd;                 //  the confirm mark, two slots
    int mark_slot;              //  slot the next mark overwrites
    int fd;                     //  newest segment, where appends go
    segment_t *segs;            //  oldest first; never empty once open
    size_t nsegs, segs_cap;
    uint64_t file_size;         //  of the newest segment's file (stale bytes
                                //  of a recycled one included)
    uint64_t spares [SPARES_MAX];   //  *.spare files, by the name they carry
    size_t nspares;
    uint64_t segment_bytes, max_bytes;
    uint64_t next_seq, confirmed, synced;
    uint64_t total_bytes;       //  sum of segs[].size
    int failed;                 //  errno of a failed sync: refuse all writes
    int cursors;                //  open cursors, which point at us
    //  Records appended since the last sync, not yet written: one write per
    //  sync instead of a system call per record. They belong to the newest
    //  segment, after its size bytes; nothing reads them before the sync.
    uint8_t *pending;
    size_t pending_size, pending_cap;
};

struct _dt_journal_cursor_t {
    dt_journal_t *journal;
    uint64_t want;              //  next seq to return
    uint64_t seg_first;         //  segment fd reads, 0 = none
    int fd;
    uint64_t off;               //  offset of record off_seq in that segment
    uint64_t off_seq;
    uint8_t *buf;               //  read-ahead window [buf_off, +buf_len)
    size_t cap, buf_len;
    uint64_t buf_off;
};


static inline uint32_t
s_le32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8
         | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
s_le64 (const uint8_t *p)
{
    return (uint64_t) s_le32 (p) | (uint64_t) s_le32 (p + 4) << 32;
}

static inline void
s_put32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v; p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16); p[3] = (uint8_t) (v >> 24);
}

static inline void
s_put64 (uint8_t *p, uint64_t v)
{
    s_put32 (p, (uint32_t) v);
    s_put32 (p + 4, (uint32_t) (v >> 32));
}

//  The CRC covers the seq as well as the payload, so a record copied to the
//  wrong place (or a stale one) cannot pass for the one expected there.
static uint32_t
s_record_crc (const uint8_t *seq_le, const void *payload, uint32_t len)
{
    return dt_crc32c (dt_crc32c (0, seq_le, 8), payload, len);
}


//  --------------------------------------------------------------------------
//  Small helpers

static void
s_say (dt_journal_report_t *report, const char *format, ...)
{
    size_t used = strlen (report->message);
    if (used + 3 >= sizeof report->message)
        return;
    if (used) {
        memcpy (report->message + used, "; ", 3);
        used += 2;
    }
    va_list args;
    va_start (args, format);
    vsnprintf (report->message + used, sizeof report->message - used, format, args);
    va_end (args);
}

static void
s_seg_name (char *name, uint64_t first)
{
    snprintf (name, 32, "%020" PRIu64 SEG_SUFFIX, first);
}

static void
s_spare_name (char *name, uint64_t first)
{
    snprintf (name, 32, "%020" PRIu64 SPARE_SUFFIX, first);
}

//  Parses "<20 digits><suffix>"; returns the number or 0 if not such a name
static uint64_t
s_parse_name (const char *name, const char *suffix)
{
    if (strlen (name) != 20 + strlen (suffix) || strcmp (name + 20, suffix))
        return 0;
    uint64_t value = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        value = value * 10 + (uint64_t) (name[i] - '0');
    }
    return value;
}

static int
s_write_all (int fd, const void *data, size_t len, off_t off)
{
    const uint8_t *p = (const uint8_t *) data;
    while (len) {
        ssize_t n = pwrite (fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t) n;
        off += n;
    }
    return 0;
}

//  fsyncs the directory holding path, to make a new entry in it durable
static void
s_sync_parent (const char *path)
{
    char *copy = strdup (path);
    if (!copy)
        return;
    char *cut = strrchr (copy, '/');
    const char *parent = !cut ? "." : cut == copy ? "/" : copy;
    if (cut && cut != copy)
        *cut = 0;
    int fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
    free (copy);
}

//  mkdir -p, syncing the parent of each directory it creates, so that a new
//  journal directory cannot vanish in a power loss along with its records
static int
s_mkdirs (const char *path)
{
    char *copy = strdup (path);
    if (!copy)
        return -1;
    int rc = 0;
    for (char *at = copy + 1; ; at++) {
        if (*at != '/' && *at != 0)
            continue;
        char saved = *at;
        *at = 0;
        if (mkdir (copy, 0755) == 0)
            s_sync_parent (copy);
        else
        if (errno != EEXIST) {
            rc = -1;
            break;
        }
        *at = saved;
        if (saved == 0)
            break;
    }
    free (copy);
    return rc;
}

static int
s_uint64_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static int
s_push_segment (dt_journal_t *self, uint64_t first, uint64_t next, uint64_t size)
{
    if (self->nsegs == self->segs_cap) {
        size_t cap = self->segs_cap ? self->segs_cap * 2 : 16;
        segment_t *segs = (segment_t *) realloc (self->segs, cap * sizeof *segs);
        if (!segs)
            return -1;
        self->segs = segs;
        self->segs_cap = cap;
    }
    self->segs [self->nsegs++] = (segment_t) { first, next, size };
    self->total_bytes += size;
    return 0;
}

//  Renames from to a name that must not exist yet (as O_EXCL for a new
//  file): a segment is never overwritten by a spare
static int
s_rename_new (int dirfd, const char *from, const char *to)
{
    if (renameat2 (dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    //  A file system without RENAME_NOREPLACE: check, then rename
    if (faccessat (dirfd, to, F_OK, 0) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat (dirfd, from, dirfd, to);
}

//  Ends the records of a recycled segment (see the top of this file)
static const uint8_t s_end_mark [DT_JOURNAL_HEADER] = { 0 };

//  A spare renamed to name, open for writing, or -1 when there is none
static int
s_take_spare (dt_journal_t *self, const char *name, uint64_t *file_size)
{
    while (self->nspares) {
        char spare [32];
        s_spare_name (spare, self->spares [--self->nspares]);
        struct stat st;
        int fd = -1;
        if (s_rename_new (self->dirfd, spare, name) == 0) {
            fd = openat (self->dirfd, name, O_RDWR | O_CLOEXEC);
            //  An end mark first, so that a crash before the first sync
            //  finds an empty segment rather than a "torn" stale record
            if (fd >= 0 && fstat (fd, &st) == 0
            &&  s_write_all (fd, s_end_mark, DT_JOURNAL_HEADER, 0) == 0) {
                *file_size = (uint64_t) st.st_size > DT_JOURNAL_HEADER?
                             (uint64_t) st.st_size: DT_JOURNAL_HEADER;
                return fd;
            }
            //  Not usable after all: the name must not stay taken
            if (fd >= 0)
                close (fd);
            unlinkat (self->dirfd, name, 0);
        }
        else
        if (errno != ENOENT) {
            //  The name is taken (or the directory refuses): the spare
            //  stays for later, and creating the segment fails the same way
            self->nspares++;
            return -1;
        }
    }
    return -1;
}

//  Creates an empty segment named first, from a spare if there is one, and
//  makes its directory entry durable
static int
s_create_segment (dt_journal_t *self, uint64_t first)
{
    char name [32];
    s_seg_name (name, first);
    uint64_t file_size = 0;
    int fd = s_take_spare (self, name, &file_size);
    if (fd < 0)
        fd = openat (self->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    //  Reserve the segment's blocks (its size stays 0, so recovery reads as
    //  before): records are written at sync time, in bulk, and a full disk
    //  then shows here, where an append can answer "overloaded", rather
    //  than in a write that would stop the daemon. Best effort where the
    //  file system cannot; the first segment of an empty journal does not
    //  insist, so a daemon starts even on a nearly full disk.
    if (file_size == 0
    &&  fallocate (fd, FALLOC_FL_KEEP_SIZE, 0, (off_t) self->segment_bytes)
    &&  errno == ENOSPC && self->nsegs > 0) {
        close (fd);
        unlinkat (self->dirfd, name, 0);
        errno = ENOSPC;
        return -1;
    }
    if (fsync (self->dirfd) || s_push_segment (self, first, first, 0)) {
        int err = errno;
        close (fd);
        unlinkat (self->dirfd, name, 0);
        errno = err;
        return -1;
    }
    if (self->fd >= 0)
        close (self->fd);
    self->fd = fd;
    self->file_size = file_size;
    return 0;
}

//  The confirm mark is a small file of two 40-byte lines, each carrying its
//  own CRC, written in turn in place: one pwrite per confirm, no rename, no
//  fsync (a rename per confirm costs ~0.2 ms on ext4, which flushes data on
//  replace-by-rename). A line torn by a power loss fails its CRC and the other
//  one, one mark older, stands; with both gone the oldest segment's name is the
//  floor. A kill -9 cannot tear a 40-byte write into the page cache.
static void
s_mark_line (char *line, uint64_t mark)
{
    char digits [21];
    snprintf (digits, sizeof digits, "%020" PRIu64, mark);
    //  line has room for MARK_LINE + 1 bytes: "confirmed " 20 " " 8 "\n" NUL
    memcpy (line, "confirmed ", 10);
    memcpy (line + 10, digits, 20);
    snprintf (line + 30, 11, " %08x\n", dt_crc32c (0, digits, 20));
}

static int
s_write_mark (dt_journal_t *self, uint64_t mark, int durable)
{
    char line [MARK_LINE + 1];
    s_mark_line (line, mark);
    if (s_write_all (self->markfd, line, MARK_LINE, (off_t) self->mark_slot * MARK_LINE))
        return -1;
    self->mark_slot ^= 1;
    return durable ? fdatasync (self->markfd) : 0;
}

//  Returns 1 and the highest valid mark, 0 if there is none yet, -1 if the
//  file holds only damaged lines
static int
s_read_mark (dt_journal_t *self, uint64_t *mark)
{
    self->markfd = openat (self->dirfd, MARK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->markfd < 0)
        return -1;
    char text [2 * MARK_LINE + 1] = "";
    ssize_t size = pread (self->markfd, text, 2 * MARK_LINE, 0);
    int found = 0;
    *mark = 0;
    self->mark_slot = 0;
    for (int slot = 0; slot < 2 && (slot + 1) * MARK_LINE <= size; slot++) {
        const char *line = text + slot * MARK_LINE;
        char digits [21], hex [9], *end;
        memcpy (digits, line + 10, 20);
        digits [20] = 0;
        memcpy (hex, line + 31, 8);
        hex [8] = 0;
        if (memcmp (line, "confirmed ", 10) || line [30] != ' ' || line [39] != '\n')
            continue;
        unsigned long crc = strtoul (hex, &end, 16);
        if (*end || (uint32_t) crc != dt_crc32c (0, digits, 20))
            continue;
        uint64_t value = strtoull (digits, &end, 10);
        if (*end)
            continue;
        if (!found || value > *mark) {
            *mark = value;
            self->mark_slot = slot ^ 1;     //  overwrite the other one
        }
        found = 1;
    }
    return found ? 1 : size > 0 ? -1 : 0;
}


//  --------------------------------------------------------------------------
//  Recovery

typedef struct {
    uint64_t size;              //  file size
    uint64_t good_end;          //  offset after the last intact record
    uint64_t next;              //  seq after the last intact record
    const char *damage;         //  why the scan stopped before size, or NULL
    uint64_t intact_after;      //  seq of an intact record past the damage
                                //  (or, in the last segment, the end mark)
    int end_mark;               //  the records end at an end mark
} scan_t;


//  Is there a whole, valid record at p (of avail bytes) with seq in (lo, hi]?
static int
s_valid_record_at (const uint8_t *p, uint64_t avail, uint64_t lo, uint64_t hi)
{
    if (avail < DT_JOURNAL_HEADER)
        return 0;
    uint64_t seq = s_le64 (p + 8);
    uint32_t len = s_le32 (p);
    return seq > lo && seq <= hi && len <= DT_JOURNAL_MAX_RECORD
        && avail - DT_JOURNAL_HEADER >= len
        && s_record_crc (p + 8, p + DT_JOURNAL_HEADER, len) == s_le32 (p + 4);
}

//  Reads a segment from its start, checking every record, up to the end of
//  the file or an end mark. A crash can only leave garbage after the last
//  whole record (a torn tail); if an intact record turns up after the damage,
//  the damage is in the middle of data that was whole once (a bad disk, a
//  stray write) and is reported as such. After an end mark only the last
//  segment is searched so: the others were synced whole before the next one
//  began, and a record missing from one shows as a gap before the next.
static int
s_scan (int fd, uint64_t first, int last, scan_t *r)
{
    struct stat st;
    if (fstat (fd, &st))
        return -1;
    *r = (scan_t) { (uint64_t) st.st_size, 0, first, NULL, 0, 0 };
    if (r->size == 0)
        return 0;
    const uint8_t *map = (const uint8_t *) mmap (NULL, r->size, PROT_READ,
                                                 MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return -1;
    madvise ((void *) map, r->size, MADV_SEQUENTIAL);

    uint64_t off = 0;
    while (off < r->size) {
        const uint8_t *p = map + off;
        uint64_t avail = r->size - off;
        uint32_t len = avail >= DT_JOURNAL_HEADER ? s_le32 (p) : 0;
        if (avail >= DT_JOURNAL_HEADER && memcmp (p, s_end_mark, DT_JOURNAL_HEADER) == 0) {
            r->end_mark = 1;
            break;
        }
        if (avail < DT_JOURNAL_HEADER)
            r->damage = "short header";
        else
        if (len > DT_JOURNAL_MAX_RECORD)
            r->damage = "length over the limit";
        else
        if (avail - DT_JOURNAL_HEADER < len)
            r->damage = "short payload";
        else
        if (s_le64 (p + 8) != r->next)
            r->damage = "unexpected seq";
        else
        if (s_record_crc (p + 8, p + DT_JOURNAL_HEADER, len) != s_le32 (p + 4))
            r->damage = "CRC mismatch";
        if (r->damage)
            break;
        off += DT_JOURNAL_HEADER + len;
        r->next++;
    }
    r->good_end = off;
    if (r->damage || (last && off < r->size)) {
        //  Records are at least 16 bytes, which bounds the seqs to look for
        uint64_t hi = r->next + (r->size - off) / DT_JOURNAL_HEADER;
        for (uint64_t at = off + 1; at + DT_JOURNAL_HEADER <= r->size; at++) {
            if (s_valid_record_at (map + at, r->size - at, r->next, hi)) {
                r->intact_after = s_le64 (map + at + 8);
                break;
            }
        }
    }
    munmap ((void *) map, r->size);
    return 0;
}

//  Renames from to a free "<seq>[.<n>].damaged" name based on seq
static int
s_damaged_name (dt_journal_t *self, uint64_t seq, char *name, size_t size)
{
    for (int n = 0; n < 1000; n++) {
        if (n == 0)
            snprintf (name, size, "%020" PRIu64 DAMAGED_SUFFIX, seq);
        else
            snprintf (name, size, "%020" PRIu64 ".%d" DAMAGED_SUFFIX, seq, n);
        if (faccessat (self->dirfd, name, F_OK, 0) && errno == ENOENT)
            return 0;
    }
    errno = EEXIST;
    return -1;
}

//  Parses a *.damaged name (with or without ".<n>"); returns its seq or 0
static uint64_t
s_parse_damaged (const char *name)
{
    size_t len = strlen (name), suffix = strlen (DAMAGED_SUFFIX);
    if (len < 20 + suffix || strcmp (name + len - suffix, DAMAGED_SUFFIX))
        return 0;
    char head [32];
    if (len - suffix > 20 + 6)
        return 0;
    memcpy (head, name, 20);
    strcpy (head + 20, DAMAGED_SUFFIX);
    if (len - suffix > 20 && name [20] != '.')
        return 0;
    return s_parse_name (head, DAMAGED_SUFFIX);
}

//  Moves bytes [off, size) of segment first aside into a *.damaged file named
//  after seq (the whole file is renamed when off is 0), and cuts the segment
//  there. Returns the seq floor the moved bytes imply: they cannot hold more
//  records than size / 16, so seqs up to that may have been handed out.
static int
s_set_aside (dt_journal_t *self, uint64_t first, uint64_t off, uint64_t seq,
             uint64_t *floor, uint64_t *moved, dt_journal_report_t *report)
{
    char name [32], aside [48];
    s_seg_name (name, first);
    int fd = openat (self->dirfd, name, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st))
        goto failed;
    uint64_t size = (uint64_t) st.st_size;
    if (off == 0) {
        if (s_damaged_name (self, first, aside, sizeof aside)
        ||  renameat (self->dirfd, name, self->dirfd, aside))
            goto failed;
        seq = first;
    }
    else {
        if (s_damaged_name (self, seq, aside, sizeof aside))
            goto failed;
        int out = openat (self->dirfd, aside,
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
            goto failed;
        uint8_t chunk [65536];
        uint64_t at = off;
        while (at < size) {
            ssize_t n = pread (fd, chunk, sizeof chunk, (off_t) at);
            if (n <= 0 || s_write_all (out, chunk, (size_t) n, (off_t) (at - off))) {
                close (out);
                goto failed;
            }
            at += (uint64_t) n;
        }
        if (fdatasync (out) || close (out)
        ||  ftruncate (fd, (off_t) off) || fdatasync (fd))
            goto failed;
    }
    close (fd);
    uint64_t top = seq + (size - off) / DT_JOURNAL_HEADER;
    if (*floor < top)
        *floor = top;
    *moved += size - off;
    report->damaged_segments++;
    return 0;
failed:
    s_say (report, "cannot set %s aside: %s", name, strerror (errno));
    if (fd >= 0)
        close (fd);
    return -1;
}

//  Frees everything without syncing; for failures and destroy
static void
s_free (dt_journal_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    if (self->dirfd >= 0)
        close (self->dirfd);
    if (self->markfd >= 0)
        close (self->markfd);
    if (self->lockfd >= 0)
        close (self->lockfd);       //  releases the flock
    free (self->segs);
    free (self->dir);
    free (self->pending);
    free (self);
}

//  Takes the directory's lock, or says who holds it
static int
s_lock (dt_journal_t *self, dt_journal_report_t *report)
{
    self->lockfd = openat (self->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->lockfd < 0) {
        s_say (report, "journal %s: cannot open " LOCK_FILE ": %s",
               self->dir, strerror (errno));
        return -1;
    }
    if (flock (self->lockfd, LOCK_EX | LOCK_NB)) {
        if (errno == EWOULDBLOCK) {
            char pid [24] = "";
            ssize_t n = pread (self->lockfd, pid, sizeof pid - 1, 0);
            pid [n > 0 ? n : 0] = 0;
            pid [strcspn (pid, "\n")] = 0;
            s_say (report, "journal %s is in use by another process (pid %s)",
                   self->dir, *pid ? pid : "unknown");
        }
        else
            s_say (report, "journal %s: cannot lock: %s", self->dir, strerror (errno));
        return -1;
    }
    char pid [24];
    int n = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
    if (ftruncate (self->lockfd, 0) == 0)
        s_write_all (self->lockfd, pid, (size_t) n, 0);
    return 0;
}

typedef struct {
    uint64_t *segs;             //  names of *.seg files, sorted
    size_t nsegs;
    uint64_t *damaged;          //  seqs of *.damaged files, sorted
    size_t ndamaged;
    uint64_t *spares;           //  names of *.spare files
    size_t nspares;
    uint64_t floor;             //  seq floor implied by the *.damaged files
} listing_t;

static void
s_listing_free (listing_t *l)
{
    free (l->segs);
    free (l->damaged);
    free (l->spares);
}

static int
s_append_u64 (uint64_t **array, size_t *count, uint64_t value)
{
    uint64_t *bigger = (uint64_t *) realloc (*array, (*count + 1) * sizeof **array);
    if (!bigger)
        return -1;
    bigger [(*count)++] = value;
    *array = bigger;
    return 0;
}

static int
s_list (dt_journal_t *self, listing_t *l)
{
    memset (l, 0, sizeof *l);
    int fd = dup (self->dirfd);
    DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    rewinddir (dir);
    struct dirent *entry;
    int rc = 0;
    while (rc == 0 && (entry = readdir (dir))) {
        uint64_t seq = s_parse_name (entry->d_name, SEG_SUFFIX);
        if (seq)
            rc = s_append_u64 (&l->segs, &l->nsegs, seq);
        else
        if ((seq = s_parse_name (entry->d_name, SPARE_SUFFIX)))
            rc = s_append_u64 (&l->spares, &l->nspares, seq);
        else
        if ((seq = s_parse_damaged (entry->d_name))) {
            struct stat st;
            if (fstatat (self->dirfd, entry->d_name, &st, 0) == 0) {
                uint64_t top = seq + (uint64_t) st.st_size / DT_JOURNAL_HEADER;
                if (l->floor < top)
                    l->floor = top;
            }
            rc = s_append_u64 (&l->damaged, &l->ndamaged, seq);
        }
    }
    closedir (dir);
    if (rc == 0) {
        if (l->nsegs)
            qsort (l->segs, l->nsegs, sizeof *l->segs, s_uint64_cmp);
        if (l->ndamaged)
            qsort (l->damaged, l->ndamaged, sizeof *l->damaged, s_uint64_cmp);
    }
    return rc;
}

//  Is a missing range [from, to) explained by a *.damaged file in it?
static int
s_gap_explained (const listing_t *l, uint64_t from, uint64_t to)
{
    for (size_t i = 0; i < l->ndamaged; i++)
        if (l->damaged [i] >= from && l->damaged [i] < to)
            return 1;
    return 0;
}

static int
s_recover (dt_journal_t *self, int salvage, dt_journal_report_t *report)
{
    listing_t l;
    if (s_list (self, &l)) {
        s_say (report, "journal %s: cannot list: %s", self->dir, strerror (errno));
        return -1;
    }
    int rc = -1, changed = 0;
    uint64_t mark = 0, floor = l.floor;
    //  Spares past the number kept (a smaller SPARES_MAX than before) go
    char name [32];
    while (l.nspares > SPARES_MAX) {
        s_spare_name (name, l.spares [--l.nspares]);
        unlinkat (self->dirfd, name, 0);
        changed = 1;
    }
    for (size_t k = 0; k < l.nspares; k++)
        self->spares [self->nspares++] = l.spares [k];
    int marked = s_read_mark (self, &mark);
    if (self->markfd < 0) {
        s_say (report, "cannot open " MARK_FILE ": %s", strerror (errno));
        goto done;
    }
    if (marked < 0)
        s_say (report, MARK_FILE " unreadable, using the oldest segment as mark");
    uint64_t confirmed = mark;
    //  Only confirmed segments are ever deleted, from the front
    if (l.nsegs && l.segs [0] - 1 > confirmed)
        confirmed = l.segs [0] - 1;

    //  A crash between writing the mark and deleting the segments it covers
    //  leaves them behind; delete them now, without reading them.
    size_t i = 0;
    while (i + 1 < l.nsegs && l.segs [i + 1] - 1 <= confirmed) {
        s_seg_name (name, l.segs [i]);
        if (unlinkat (self->dirfd, name, 0) && errno != ENOENT) {
            s_say (report, "cannot delete confirmed %s: %s", name, strerror (errno));
            goto done;
        }
        changed = 1;
        i++;
    }

    uint64_t expected = i < l.nsegs ? l.segs [i] : 0;
    uint64_t truncate_at = UINT64_MAX;      //  of the last segment
    for (; i < l.nsegs; i++) {
        int last = i + 1 == l.nsegs;
        s_seg_name (name, l.segs [i]);
        const char *damage = NULL;
        uint64_t damage_off = 0, damage_bytes = 0;
        scan_t r = { 0, 0, expected, NULL, 0, 0 };
        if (l.segs [i] > expected && !s_gap_explained (&l, expected, l.segs [i])) {
            damage = "seqs missing before it (a segment file is gone)";
            if (salvage) {
                //  Nothing to move: record the gap as known, keep the data
                char marker [48];
                int fd = -1;
                if (s_damaged_name (self, expected, marker, sizeof marker) == 0)
                    fd = openat (self->dirfd, marker,
                                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) {
                    s_say (report, "cannot mark the gap: %s", strerror (errno));
                    goto done;
                }
                close (fd);
                changed = 1;
                s_say (report, "SALVAGED: seqs %" PRIu64 "..%" PRIu64 " missing"
                       " before %s, marked as %s", expected, l.segs [i] - 1, name, marker);
                report->damaged_segments++;
                damage = NULL;
            }
        }
        else
        if (l.segs [i] < expected)
            damage = "starts below the end of the previous segment";
        if (!damage) {
            expected = l.segs [i];
            int fd = openat (self->dirfd, name, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || s_scan (fd, expected, last, &r)) {
                s_say (report, "cannot read %s: %s", name, strerror (errno));
                if (fd >= 0)
                    close (fd);
                goto done;
            }
            close (fd);
            if (!r.damage && (r.intact_after || (r.end_mark && !last && r.next != l.segs [i + 1]))) {
                //  A segment before the last was synced whole before the
                //  next began: its records reach the next one's name
                damage = r.intact_after ? "intact records after the end mark"
                                        : "end mark before the segment's last record";
                damage_off = r.good_end;
                damage_bytes = r.size - r.good_end;
            }
            else
            if (r.damage && last && !r.intact_after) {
                //  A torn tail: the normal result of a crash mid-append
                report->dropped_bytes = r.size - r.good_end;
                truncate_at = r.good_end;
                s_say (report, "dropped torn tail of %s: %" PRIu64 " bytes at"
                       " offset %" PRIu64 " (seq %" PRIu64 ", %s)", name,
                       report->dropped_bytes, r.good_end, r.next, r.damage);
            }
            else
            if (r.damage) {
                damage = r.damage;
                damage_off = r.good_end;
                damage_bytes = r.size - r.good_end;
            }
        }
        if (damage) {
            //  The data after the damage may hold acknowledged records: never
            //  drop them silently. Refuse, or with salvage set them aside.
            for (size_t k = i + 1; k < l.nsegs; k++) {
                struct stat st;
                char later [32];
                s_seg_name (later, l.segs [k]);
                if (fstatat (self->dirfd, later, &st, 0) == 0)
                    damage_bytes += (uint64_t) st.st_size;
            }
            if (!salvage) {
                report->message [0] = 0;
                s_say (report, "journal %s: %s damaged at offset %" PRIu64
                       " (seq %" PRIu64 "): %s; %" PRIu64 " bytes from there"
                       " on%s; not opened, reopen with salvage to set them aside",
                       self->dir, name, damage_off, r.next,
                       damage, damage_bytes,
                       r.intact_after ? " hold intact records" : "");
                goto done;
            }
            uint64_t moved = 0;
            if (s_set_aside (self, l.segs [i], damage_off, r.next, &floor, &moved, report))
                goto done;
            for (size_t k = i + 1; k < l.nsegs; k++)
                if (s_set_aside (self, l.segs [k], 0, l.segs [k], &floor, &moved, report))
                    goto done;
            s_say (report, "SALVAGED: %s damaged at offset %" PRIu64 " (seq %"
                   PRIu64 ", %s); %" PRIu64 " bytes from there on set aside as"
                   " %" PRIu64 " *.damaged files, seqs resume past them",
                   name, damage_off, r.next, damage, moved,
                   report->damaged_segments);
            changed = 1;
            if (damage_off > 0 && s_push_segment (self, l.segs [i], r.next, damage_off))
                goto done;
            expected = r.next;
            break;
        }
        if (s_push_segment (self, l.segs [i], r.next, r.good_end))
            goto done;
        expected = r.next;
    }

    //  Records a killed process wrote may still be only in the page cache:
    //  sync them now, they count as durable from here on.
    if (self->nsegs) {
        segment_t *last = &self->segs [self->nsegs - 1];
        struct stat st;
        s_seg_name (name, last->first);
        self->fd = openat (self->dirfd, name, O_RDWR | O_CLOEXEC);
        if (self->fd < 0
        || (truncate_at != UINT64_MAX && ftruncate (self->fd, (off_t) truncate_at))
        ||  fdatasync (self->fd) || fstat (self->fd, &st)) {
            s_say (report, "cannot open %s: %s", name, strerror (errno));
            goto done;
        }
        self->file_size = (uint64_t) st.st_size;
    }
    //  Seqs continue after the last record, and past anything the mark or
    //  the set-aside files say may have been handed out already
    uint64_t next = expected ? expected : 1;
    if (floor < confirmed + 1)
        floor = confirmed + 1;
    if (next < floor) {
        //  Segments wholly confirmed go; a new one named after the floor
        //  carries it. The mark must be durable before what it covers goes.
        if (confirmed >= next && s_write_mark (self, confirmed, 1)) {
            s_say (report, "cannot write the mark: %s", strerror (errno));
            goto done;
        }
        while (self->nsegs && self->segs [0].next - 1 <= confirmed) {
            s_seg_name (name, self->segs [0].first);
            if (unlinkat (self->dirfd, name, 0) && errno != ENOENT) {
                s_say (report, "cannot delete confirmed %s: %s", name, strerror (errno));
                goto done;
            }
            self->total_bytes -= self->segs [0].size;
            memmove (self->segs, self->segs + 1, --self->nsegs * sizeof *self->segs);
        }
        next = floor;
        changed = 1;
    }
    if (self->nsegs == 0 || self->segs [self->nsegs - 1].next < next) {
        if (s_create_segment (self, next)) {
            s_say (report, "cannot create a segment: %s", strerror (errno));
            goto done;
        }
    }
    self->next_seq = next;
    self->confirmed = confirmed < next - 1 ? confirmed : next - 1;
    self->synced = next - 1;
    if (changed && fsync (self->dirfd)) {
        s_say (report, "cannot sync %s: %s", self->dir, strerror (errno));
        goto done;
    }
    rc = 0;
done:
    s_listing_free (&l);
    return rc;
}


//  --------------------------------------------------------------------------
//  Public API

dt_journal_t *
dt_journal_new (const char *dir, const dt_journal_opts_t *opts,
                dt_journal_report_t *report)
{
    dt_journal_report_t scratch;
    if (!report)
        report = &scratch;
    memset (report, 0, sizeof *report);
    if (!dir || !*dir) {
        s_say (report, "journal: no directory given");
        return NULL;
    }
    dt_journal_t *self = (dt_journal_t *) calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (dir))) {
        free (self);
        s_say (report, "journal %s: out of memory", dir);
        return NULL;
    }
    self->fd = self->dirfd = self->lockfd = self->markfd = -1;
    self->segment_bytes = opts && opts->segment_bytes ? opts->segment_bytes
                                                      : DEFAULT_SEGMENT_BYTES;
    self->max_bytes = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;

    if (s_mkdirs (dir)
    || (self->dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        s_say (report, "journal %s: %s", dir, strerror (errno));
        s_free (self);
        return NULL;
    }
    if (s_lock (self, report)
    ||  s_recover (self, opts ? opts->salvage : 0, report)) {
        if (strncmp (report->message, "journal ", 8)) {
            char reason [sizeof report->message];
            snprintf (reason, sizeof reason, "%s", report->message);
            report->message [0] = 0;
            s_say (report, "journal %s: %s", dir, reason);
        }
        s_free (self);
        return NULL;
    }

    report->first_seq = self->segs [0].first;
    report->next_seq = self->next_seq;
    report->records = 0;
    for (size_t i = 0; i < self->nsegs; i++)
        report->records += self->segs [i].next - self->segs [i].first;
    report->confirmed = self->confirmed;
    char summary [sizeof report->message];
    snprintf (summary, sizeof summary, "%s", report->message);
    report->message [0] = 0;
    s_say (report, "journal %s: %" PRIu64 " records, %" PRIu64 " to replay,"
           " confirmed up to %" PRIu64 ", next seq %" PRIu64,
           dir, report->records, dt_journal_depth (self), self->confirmed,
           self->next_seq);
    if (*summary)
        s_say (report, "%s", summary);
    return self;
}

static int s_flush (dt_journal_t *self);

void
dt_journal_destroy (dt_journal_t **self_p)
{
    assert (self_p);
    dt_journal_t *self = *self_p;
    if (!self)
        return;
    //  Cursors keep a pointer to us: destroying first is a programming error
    assert (self->cursors == 0);
    if (!self->failed && self->synced + 1 < self->next_seq && s_flush (self) == 0)
        fdatasync (self->fd);
    s_free (self);
    *self_p = NULL;
}

//  Unconfirmed bytes. Whole segments are exact; for the oldest segment, which
//  is usually part confirmed, the confirmed share is estimated by record count
//  (no per-record offsets are kept, so memory does not grow with the backlog).
static uint64_t
s_bytes (dt_journal_t *self)
{
    uint64_t bytes = self->total_bytes;
    segment_t *s = &self->segs [0];
    if (self->confirmed >= s->first && s->next > s->first) {
        uint64_t count = s->next - s->first;
        uint64_t done = (self->confirmed < s->next ? self->confirmed + 1 : s->next)
                      - s->first;
        bytes -= done == count ? s->size
                               : (uint64_t) ((double) s->size * (double) done / (double) count);
    }
    return bytes;
}

//  Writes the pending records at the end of the newest segment. A failure
//  stops the journal, like a failed fdatasync: what the file holds after a
//  failed write is unknown, and only recovery at the next start can tell.
static int
s_flush (dt_journal_t *self)
{
    segment_t *seg = &self->segs [self->nsegs - 1];
    if (self->pending_size == 0)
        return 0;
    //  In a recycled file stale bytes follow: the end mark goes with the
    //  records (the buffer always has room for it, see append)
    size_t size = self->pending_size;
    if (seg->size + size < self->file_size) {
        memset (self->pending + size, 0, DT_JOURNAL_HEADER);
        size += DT_JOURNAL_HEADER;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite (self->fd, self->pending + done, size - done,
                            (off_t) (seg->size + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            self->failed = n < 0 && errno ? errno : EIO;
            errno = self->failed;
            return -1;
        }
        done += (size_t) n;
    }
    seg->size += self->pending_size;
    if (self->file_size < seg->size + (size - self->pending_size))
        self->file_size = seg->size + (size - self->pending_size);
    self->pending_size = 0;
    return 0;
}

//  Syncs the full segment (so only the newest can ever be torn) and starts
//  the next one
static int
s_roll (dt_journal_t *self)
{
    if (s_flush (self))
        return -1;
    if (fdatasync (self->fd)) {
        self->failed = errno ? errno : EIO;
        return -1;
    }
    self->synced = self->next_seq - 1;
    return s_create_segment (self, self->next_seq);
}

int
dt_journal_append (dt_journal_t *self, const void *data, uint32_t len,
                   uint64_t *seq_p)
{
    if (!self || (len && !data)) {
        errno = EINVAL;
        return -1;
    }
    if (self->failed) {
        errno = EIO;
        return -1;
    }
    if (len > DT_JOURNAL_MAX_RECORD) {
        errno = EMSGSIZE;
        return -1;
    }
    uint64_t bytes = DT_JOURNAL_HEADER + (uint64_t) len;
    if (s_bytes (self) + bytes > self->max_bytes) {
        errno = ENOSPC;
        return -1;
    }
    segment_t *seg = &self->segs [self->nsegs - 1];
    uint64_t seg_bytes = seg->size + self->pending_size;
    if (seg_bytes > 0 && seg_bytes + bytes > self->segment_bytes) {
        if (s_roll (self))
            return -1;
        seg = &self->segs [self->nsegs - 1];
    }
    if (self->pending_size + bytes + DT_JOURNAL_HEADER > self->pending_cap) {
        size_t cap = self->pending_cap? self->pending_cap: 64 * 1024;
        while (cap < self->pending_size + bytes + DT_JOURNAL_HEADER)
            cap *= 2;
        uint8_t *grown = (uint8_t *) realloc (self->pending, cap);
        if (!grown) {
            errno = ENOMEM;
            return -1;
        }
        self->pending = grown;
        self->pending_cap = cap;
    }
    uint8_t *header = self->pending + self->pending_size;
    s_put32 (header, len);
    s_put64 (header + 8, self->next_seq);
    s_put32 (header + 4, s_record_crc (header + 8, data, len));
    if (len)
        memcpy (header + DT_JOURNAL_HEADER, data, len);
    self->pending_size += bytes;
    seg->next++;
    self->total_bytes += bytes;
    if (seq_p)
        *seq_p = self->next_seq;
    self->next_seq++;
    return 0;
}

int
dt_journal_sync (dt_journal_t *self)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    if (self->failed) {
        errno = EIO;
        return -1;
    }
    if (self->synced + 1 >= self->next_seq)
        return 0;
    if (s_flush (self))
        return -1;
    if (fdatasync (self->fd)) {
        //  After a failed fsync Linux may mark the pages clean: retrying
        //  would "succeed" without the data. Only a restart can tell.
        self->failed = errno ? errno : EIO;
        return -1;
    }
    self->synced = self->next_seq - 1;
    return 0;
}

int
dt_journal_confirm (dt_journal_t *self, uint64_t upto)
{
    if (!self || upto >= self->next_seq) {
        errno = EINVAL;
        return -1;
    }
    if (upto <= self->confirmed)
        return 0;
    self->confirmed = upto;
    //  No fsync: losing the mark in a power loss only replays confirmed
    //  records, which the coordinator's idempotent insert absorbs.
    int rc = s_write_mark (self, upto, 0);
    int err = errno;

    size_t gone = 0;
    char name [32], spare [32];
    while (gone + 1 < self->nsegs && self->segs [gone].next <= upto + 1) {
        uint64_t first = self->segs [gone].first;
        s_seg_name (name, first);
        s_spare_name (spare, first);
        if (self->nspares < SPARES_MAX
        &&  renameat (self->dirfd, name, self->dirfd, spare) == 0)
            self->spares [self->nspares++] = first;
        else
        if (unlinkat (self->dirfd, name, 0) && errno != ENOENT) {
            rc = -1;
            err = errno;
            break;
        }
        self->total_bytes -= self->segs [gone].size;
        gone++;
    }
    if (gone) {
        memmove (self->segs, self->segs + gone,
                 (self->nsegs - gone) * sizeof *self->segs);
        self->nsegs -= gone;
        if (fsync (self->dirfd) && rc == 0) {
            rc = -1;
            err = errno;
        }
    }
    errno = err;
    return rc;
}

uint64_t
dt_journal_bytes (dt_journal_t *self)
{
    return self ? s_bytes (self) : 0;
}

//  Counted per segment, so that a gap left by a salvage does not count
uint64_t
dt_journal_depth (dt_journal_t *self)
{
    uint64_t depth = 0;
    for (size_t i = self ? self->nsegs : 0; i-- > 0; ) {
        segment_t *s = &self->segs [i];
        if (s->next <= self->confirmed + 1)
            break;
        depth += s->next - (s->first > self->confirmed ? s->first : self->confirmed + 1);
    }
    return depth;
}

uint64_t
dt_journal_next_seq (dt_journal_t *self)
{
    return self ? self->next_seq : 0;
}

uint64_t
dt_journal_confirmed (dt_journal_t *self)
{
    return self ? self->confirmed : 0;
}

uint64_t
dt_journal_synced (dt_journal_t *self)
{
    return self ? self->synced : 0;
}

uint64_t
dt_journal_first_seq (dt_journal_t *self)
{
    return self ? self->segs [0].first : 0;
}

const char *
dt_journal_dir (dt_journal_t *self)
{
    return self ? self->dir : NULL;
}


//  --------------------------------------------------------------------------
//  Cursor

dt_journal_cursor_t *
dt_journal_cursor_new (dt_journal_t *self, uint64_t from_seq)
{
    if (!self)
        return NULL;
    dt_journal_cursor_t *cur = (dt_journal_cursor_t *) calloc (1, sizeof *cur);
    if (!cur)
        return NULL;
    cur->journal = self;
    cur->want = from_seq ? from_seq : 1;
    cur->fd = -1;
    self->cursors++;
    return cur;
}

void
dt_journal_cursor_destroy (dt_journal_cursor_t **self_p)
{
    assert (self_p);
    dt_journal_cursor_t *self = *self_p;
    if (!self)
        return;
    self->journal->cursors--;
    if (self->fd >= 0)
        close (self->fd);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

uint64_t
dt_journal_cursor_seq (dt_journal_cursor_t *self)
{
    return self ? self->want : 0;
}

//  Segment whose name is first, or NULL
static segment_t *
s_find_first (dt_journal_t *j, uint64_t first)
{
    size_t lo = 0, hi = j->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (j->segs [mid].first < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < j->nsegs && j->segs [lo].first == first ? &j->segs [lo] : NULL;
}

//  First segment with records at or after seq, or NULL
static segment_t *
s_find_holding (dt_journal_t *j, uint64_t seq)
{
    size_t lo = 0, hi = j->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (j->segs [mid].next <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < j->nsegs ? &j->segs [lo] : NULL;
}

//  Bytes [off, off + len) of the cursor's segment, from the read-ahead window
//  (refilled up to limit, the segment's intact size). NULL and errno on error.
static const uint8_t *
s_window (dt_journal_cursor_t *self, uint64_t off, uint64_t len, uint64_t limit)
{
    if (off >= self->buf_off && off + len <= self->buf_off + self->buf_len)
        return self->buf + (off - self->buf_off);
    if (off + len > limit) {
        errno = EBADMSG;            //  a length pointing past the records
        return NULL;
    }
    if (len > self->cap || !self->buf) {
        size_t cap = len > CURSOR_BUFFER ? (size_t) len : CURSOR_BUFFER;
        uint8_t *buf = (uint8_t *) realloc (self->buf, cap);
        if (!buf)
            return NULL;
        self->buf = buf;
        self->cap = cap;
    }
    uint64_t want = limit - off < self->cap ? limit - off : self->cap;
    size_t got = 0;
    self->buf_len = 0;
    while (got < want) {
        ssize_t n = pread (self->fd, self->buf + got, want - got, (off_t) (off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        if (n == 0)
            break;
        got += (size_t) n;
    }
    if (got < len) {
        errno = EIO;                //  the file is shorter than it should be
        return NULL;
    }
    self->buf_off = off;
    self->buf_len = got;
    return self->buf;
}

int
dt_journal_cursor_next (dt_journal_cursor_t *self, const void **data,
                        uint32_t *len, uint64_t *seq)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    dt_journal_t *j = self->journal;
    if (self->want > j->synced)
        return 0;
    segment_t *s = self->seg_first ? s_find_first (j, self->seg_first) : NULL;
    if (!s || self->want >= s->next) {
        //  Into the segment holding want; if confirm deleted it, on to the
        //  first record left (everything before it is confirmed)
        s = s_find_holding (j, self->want);
        if (!s)
            return 0;
        if (self->want < s->first)
            self->want = s->first;
        if (self->want > j->synced)
            return 0;
        char name [32];
        s_seg_name (name, s->first);
        if (self->fd >= 0)
            close (self->fd);
        self->seg_first = 0;
        self->fd = openat (j->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (self->fd < 0)
            return -1;
        self->seg_first = s->first;
        self->off = 0;
        self->off_seq = s->first;
        self->buf_len = 0;
    }
    const uint8_t *p;
    while (self->off_seq < self->want) {       //  skip to want
        if (!(p = s_window (self, self->off, DT_JOURNAL_HEADER, s->size)))
            return -1;
        self->off += DT_JOURNAL_HEADER + (uint64_t) s_le32 (p);
        self->off_seq++;
    }
    if (!(p = s_window (self, self->off, DT_JOURNAL_HEADER, s->size)))
        return -1;
    uint32_t size = s_le32 (p);
    if (size > DT_JOURNAL_MAX_RECORD || s_le64 (p + 8) != self->want) {
        errno = EBADMSG;
        return -1;
    }
    if (!(p = s_window (self, self->off, DT_JOURNAL_HEADER + (uint64_t) size, s->size)))
        return -1;
    if (s_record_crc (p + 8, p + DT_JOURNAL_HEADER, size) != s_le32 (p + 4)) {
        errno = EBADMSG;            //  changed on disk since it was written
        return -1;
    }
    if (data)
        *data = p + DT_JOURNAL_HEADER;
    if (len)
        *len = size;
    if (seq)
        *seq = self->want;
    self->off += DT_JOURNAL_HEADER + size;
    self->off_seq++;
    self->want++;
    return 1;
}
