/*  log.h - structured one-line logs (logfmt) to stdout:
        ts=2026-11-27T04:10:26.123Z level=info svc=coordinator msg="..." key=value
    so operations can grep them and log shippers can parse them.
*/
#ifndef DT_LOG_H
#define DT_LOG_H

#include <stdint.h>

typedef enum { DT_LOG_DEBUG, DT_LOG_INFO, DT_LOG_WARN, DT_LOG_ERROR } dt_log_level_t;

//  Set the service name and the lowest level written ("debug".."error")
void dt_log_init (const char *service, const char *level);

//  msg is a plain sentence; fields is a printf format of extra key=value
//  pairs (values with spaces quoted by the caller), or NULL
void dt_log (dt_log_level_t level, const char *msg, const char *fields, ...)
    __attribute__ ((format (printf, 3, 4)));

#define dt_info(...)  dt_log (DT_LOG_INFO, __VA_ARGS__)
#define dt_warn(...)  dt_log (DT_LOG_WARN, __VA_ARGS__)
#define dt_error(...) dt_log (DT_LOG_ERROR, __VA_ARGS__)
#define dt_debug(...) dt_log (DT_LOG_DEBUG, __VA_ARGS__)

#endif
