/*  journal.h - durable store-and-forward journal of a track daemon

    A track daemon appends every accepted event to the journal BEFORE it answers
    the publisher, forwards records to the coordinator with a cursor, and trims
    only what the coordinator confirmed as committed. After a crash (kill -9 at
    any instant, or power loss) it reopens the journal and replays every record
    that was not confirmed. This is the zguide's Titanic pattern, on local disk.

    On disk, in one directory owned by one process:
        LOCK                    flock()ed while open; holds the owner's pid
        <first seq %020>.seg    segment files, each a run of records:
                                    u32 length   (payload bytes, little-endian)
                                    u32 crc32c   (of the 8 seq bytes + payload)
                                    u64 seq      (little-endian)
                                    payload
                                A reused file (see *.spare) has stale bytes
                                after the records: an end mark, 16 zero
                                bytes (no record has seq 0), ends them.
        <seq %020>.spare        up to two confirmed segments kept to become
                                the next segments (renamed, blocks already
                                written: no unlink or allocation per roll);
                                they add up to 2 x segment_bytes on disk
        confirmed               two lines "confirmed <seq> <crc32c>", written
                                in turn in place (one pwrite per confirm); the
                                highest line with a valid CRC is the mark
        *.damaged               data set aside by a salvage (see opts); keep
                                them: they explain the seq gap they leave

    Sequence numbers start at 1, grow by one per record, and are never reused,
    not even after every record was confirmed and its segment deleted: the
    newest segment is never deleted, and its name carries the next seq.

    Durability: dt_journal_append() only copies the record into memory;
    dt_journal_sync() writes every record appended since the last sync in
    one write and issues one fdatasync that makes them durable (group
    commit). A record never synced is gone with the process, as it would
    be gone with the machine.
    Answer publishers only after the sync that covers their records returned 0.

    Threading: a journal and its cursors belong to one thread (the daemon's
    actor). No global state; any number of journals in distinct directories.
*/
#ifndef DT_JOURNAL_H
#define DT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Largest record accepted; a header claiming more is damage, not data.
#define DT_JOURNAL_MAX_RECORD   (16u * 1024 * 1024)
//  Bytes in front of every payload on disk.
#define DT_JOURNAL_HEADER       16

typedef struct _dt_journal_t dt_journal_t;
typedef struct _dt_journal_cursor_t dt_journal_cursor_t;

typedef struct {
    uint64_t segment_bytes;     //  roll to a new segment past this; 0 = 64 MiB
    uint64_t max_bytes;         //  unconfirmed bytes allowed; 0 = 1 GiB
    int salvage;                //  damage anywhere but a torn tail of the
                                //  last segment: 0 = refuse to open (default),
                                //  1 = keep the clean prefix and rename the
                                //  rest <seq>.damaged, then continue seqs past
                                //  anything the damaged bytes could hold
} dt_journal_opts_t;

typedef struct {
    uint64_t records;           //  intact records on disk after recovery
    uint64_t first_seq;         //  seq of the first of them (= next_seq if none)
    uint64_t next_seq;          //  seq the next append gets
    uint64_t confirmed;         //  every seq <= this is committed downstream;
                                //  next_seq - 1 - confirmed records to replay
    uint64_t dropped_bytes;     //  torn tail cut off the last segment
    uint64_t damaged_segments;  //  segments renamed *.damaged by a salvage
    char message[256];          //  what happened, for the log (or why NULL)
} dt_journal_report_t;

//  Open the journal in dir (created if missing, with its parents), recover it
//  and take an exclusive lock on it. opts and report may be NULL. Returns NULL
//  on failure with the reason in report->message: lock held by another process,
//  I/O error, or damage before the tail of the last segment (see salvage).
//  A torn tail of the last segment is cut off and reported, never an error.
dt_journal_t *
    dt_journal_new (const char *dir, const dt_journal_opts_t *opts,
                    dt_journal_report_t *report);

//  Sync what was appended, close and unlock. Destroy every cursor first.
//  Safe to call twice; nulls the caller's pointer.
void
    dt_journal_destroy (dt_journal_t **self_p);

//  Append one record (copied; len may be 0) and return its seq in *seq_p (may
//  be NULL). Not durable until dt_journal_sync(). Returns -1 and sets errno:
//    ENOSPC    the unconfirmed bytes would exceed max_bytes (answer overloaded),
//              or the filesystem has no room for a new segment (each reserves
//              segment_bytes when made); nothing was appended either way
//    EMSGSIZE  len > DT_JOURNAL_MAX_RECORD
//    EIO, ...  the journal failed earlier (see dt_journal_sync)
//  Rolling to a new segment (past segment_bytes) writes and syncs the full one
//  first.
int
    dt_journal_append (dt_journal_t *self, const void *data, uint32_t len,
                       uint64_t *seq_p);

//  Write every record appended since the last sync, then make them durable
//  with one fdatasync. Returns 0, or -1 with errno. A failed write or sync
//  leaves the journal failed: every later append
//  and sync returns -1 (EIO), because Linux may have dropped the dirty pages;
//  the daemon must exit and let a restart recover from what is really on disk.
int
    dt_journal_sync (dt_journal_t *self);

//  Record that every seq <= upto is committed downstream and recycle (or
//  delete, past two spares) segments that hold only confirmed records. A mark lower than the current one is a
//  no-op (the mark never goes backwards); upto >= next_seq is refused (-1,
//  EINVAL). The mark is persisted without fsync: after a power loss recovery
//  may replay some confirmed records again, which is harmless downstream.
int
    dt_journal_confirm (dt_journal_t *self, uint64_t upto);

//  Statistics
uint64_t dt_journal_bytes (dt_journal_t *self);     //  unconfirmed bytes, approx
uint64_t dt_journal_depth (dt_journal_t *self);     //  unconfirmed records
uint64_t dt_journal_next_seq (dt_journal_t *self);  //  seq of next append
uint64_t dt_journal_confirmed (dt_journal_t *self); //  confirm mark
uint64_t dt_journal_synced (dt_journal_t *self);    //  highest durable seq
uint64_t dt_journal_first_seq (dt_journal_t *self); //  first seq still on disk
const char *dt_journal_dir (dt_journal_t *self);

//  A reader from from_seq on (from the first record still on disk if that is
//  later, so 0 means "everything left"). It follows the journal: keep one
//  cursor and call next as records arrive. It returns only SYNCED records:
//  nothing a crash could still take back is ever forwarded, so a seq seen
//  downstream is never handed out again. If confirm deletes records under it,
//  it skips ahead to the first one left. Destroy cursors before the journal.
dt_journal_cursor_t *
    dt_journal_cursor_new (dt_journal_t *self, uint64_t from_seq);

//  Next record: returns 1 with *data, *len, *seq set (data valid until the next
//  call on this cursor, or its destroy), 0 when it has read every synced
//  record, -1 on a read error or a record that fails its CRC (errno EBADMSG).
//  Any out pointer may be NULL.
int
    dt_journal_cursor_next (dt_journal_cursor_t *self, const void **data,
                            uint32_t *len, uint64_t *seq);

//  Seq the next successful cursor_next will return (at least)
uint64_t
    dt_journal_cursor_seq (dt_journal_cursor_t *self);

void
    dt_journal_cursor_destroy (dt_journal_cursor_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
