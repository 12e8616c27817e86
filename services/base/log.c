/*  log.c - logfmt lines to stdout (see log.h)
*/
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char s_log_service [64] = "dualtrack";
static dt_log_level_t s_log_min = DT_LOG_INFO;
static const char *s_level_names [] = { "debug", "info", "warn", "error" };

void
dt_log_init (const char *service, const char *level)
{
    snprintf (s_log_service, sizeof s_log_service, "%s", service);
    for (int i = 0; i < 4; i++)
        if (level && strcmp (level, s_level_names [i]) == 0)
            s_log_min = (dt_log_level_t) i;
    //  Line-buffered, so lines from several threads stay whole and a
    //  container log shows them at once
    setvbuf (stdout, NULL, _IOLBF, 0);
}

void
dt_log (dt_log_level_t level, const char *msg, const char *fields, ...)
{
    if (level < s_log_min)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char line [2048];
    int len = snprintf (line, sizeof line,
        "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s msg=\"",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        now.tv_nsec / 1000000, s_level_names [level], s_log_service);
    //  Quotes and newlines in the message would break the one-line format
    for (const char *c = msg; *c && len < (int) sizeof line - 8; c++) {
        if (*c == '"' || *c == '\\')
            line [len++] = '\\';
        line [len++] = (*c == '\n')? ' ': *c;
    }
    line [len++] = '"';
    if (fields && len < (int) sizeof line - 2) {
        line [len++] = ' ';
        va_list args;
        va_start (args, fields);
        int wrote = vsnprintf (line + len, sizeof line - (size_t) len - 1, fields, args);
        va_end (args);
        len += wrote < 0? 0: wrote;
        if (len > (int) sizeof line - 2)
            len = (int) sizeof line - 2;
    }
    line [len++] = '\n';
    fwrite (line, 1, (size_t) len, stdout);
}
