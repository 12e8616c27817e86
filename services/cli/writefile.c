/*  writefile.c - a small state file replaced whole, so that a crash leaves
    the old content or the new and never a mix: the cursor files of
    `dualtrack watch` (follow.c) and `dualtrack relay`
*/
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <unistd.h>

int
dt_cli_write_atomic (const char *path, const char *text, size_t len, int mode)
{
    char temp [4096], dir [4096];
    if (snprintf (temp, sizeof temp, "%s.tmp", path) >= (int) sizeof temp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf (dir, sizeof dir, "%s", path);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    bool written = fd >= 0 && write (fd, text, len) == (ssize_t) len && fsync (fd) == 0;
    int saved = errno;
    if (fd >= 0 && close (fd) && written) {
        written = false;
        saved = errno;
    }
    if (!written || rename (temp, path)) {
        if (written)
            saved = errno;
        unlink (temp);
        errno = saved;
        return -1;
    }
    //  The rename itself lasts once the directory is on disk
    int dir_fd = open (dirname (dir), O_RDONLY);
    if (dir_fd >= 0) {
        fsync (dir_fd);
        close (dir_fd);
    }
    return 0;
}
