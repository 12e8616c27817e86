/*  page.c - see page.h
*/
#include "cli/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dt_page_colors [DT_PAGE_COLORS] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
};

void *
dt_page_alloc (size_t count, size_t size)
{
    void *p = calloc (count? count: 1, size);
    if (!p) {
        fprintf (stderr, "dualtrack: out of memory\n");
        exit (2);
    }
    return p;
}

//  A strict YYYY-MM-DD that names a real day; its UTC midnight
bool
dt_page_parse_day (const char *text, time_t *at)
{
    int y, m, d, used = 0;
    if (strlen (text) != 10 || sscanf (text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3
    ||  used != 10 || text [4] != '-' || text [7] != '-' || y < 2000 || y > 2099)
        return false;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    time_t t = timegm (&tm);
    struct tm back;
    if (t == (time_t) -1 || !gmtime_r (&t, &back)
    ||  back.tm_year != y - 1900 || back.tm_mon != m - 1 || back.tm_mday != d)
        return false;
    *at = t;
    return true;
}

//  len bytes of text, escaped
static void
s_esc_n (FILE *out, const char *text, size_t len)
{
    for (const char *p = text; p < text + len; p++)
        switch (*p) {
            case '&': fputs ("&amp;", out); break;
            case '<': fputs ("&lt;", out); break;
            case '>': fputs ("&gt;", out); break;
            case '"': fputs ("&quot;", out); break;
            case '\'': fputs ("&#39;", out); break;
            default: fputc (*p, out);
        }
}

void
dt_page_esc (FILE *out, const char *text)
{
    s_esc_n (out, text, strlen (text));
}

//  At most max characters (UTF-8 aware) of text, with an ellipsis if cut
void
dt_page_esc_cut (FILE *out, const char *text, int max)
{
    if (max < 2)
        max = 2;
    int chars = 0;
    const char *p = text;
    for (; *p; p++) {
        if (((unsigned char) *p & 0xC0) != 0x80 && chars++ == max)
            break;
    }
    if (!*p) {
        dt_page_esc (out, text);
        return;
    }
    //  Cut before the character that did not fit, one less for the ellipsis
    const char *end = text;
    chars = 0;
    for (; *end; end++)
        if (((unsigned char) *end & 0xC0) != 0x80 && chars++ == max - 1)
            break;
    s_esc_n (out, text, (size_t) (end - text));
    fputs ("\xE2\x80\xA6", out);
}

void
dt_page_percent (FILE *out, long long part, long long whole)
{
    if (whole <= 0)
        fputs ("n/a", out);
    else
        fprintf (out, "%.1f%%", 100.0 * (double) part / (double) whole);
}

//  A round upper bound for an axis (1, 2 or 5 times a power of ten per
//  step, four or five steps); its step through *step
long long
dt_page_nice_max (long long max, long long *step)
{
    if (max < 1)
        max = 1;
    long long unit = 1;
    while (unit * 10 <= max / 4)
        unit *= 10;
    long long s = unit;
    const int factors [] = { 1, 2, 5, 10 };
    for (int i = 0; i < 4; i++) {
        s = unit * factors [i];
        if ((max + s - 1) / s <= 5)
            break;
    }
    *step = s;
    return ((max + s - 1) / s) * s;
}

void
dt_page_svg_open (FILE *out, int width, int height, const char *label)
{
    fprintf (out, "<svg width=\"%d\" height=\"%d\""
             " viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", width, height, width, height);
    dt_page_esc (out, label);
    fputs ("\"><title>", out);
    dt_page_esc (out, label);
    fputs ("</title>\n", out);
}

//  Horizontal grid lines and the value labels of a vertical axis
void
dt_page_y_axis (FILE *out, int left, int right, int top, int bottom, long long max, long long step)
{
    for (long long v = 0; v <= max; v += step) {
        double y = bottom - (double) v / (double) max * (bottom - top);
        fprintf (out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                 "<text x=\"%d\" y=\"%.1f\" class=\"ya\">%lld</text>\n",
                 left, y, right, y, left - 6, y + 4, v);
    }
}

void
dt_page_legend_item (FILE *out, int x, int y, const char *color, const char *label)
{
    fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
             "<text x=\"%d\" y=\"%d\">", x, y - 10, color, x + 17, y);
    dt_page_esc (out, label);
    fputs ("</text>\n", out);
}

const char *const dt_page_style =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a202c;"
    "max-width:800px;margin:24px auto;padding:0 16px}"
    "h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:36px;"
    "border-bottom:1px solid #cbd5e0;padding-bottom:4px}"
    ".range{color:#4a5568;margin-top:0}"
    "table{border-collapse:collapse;margin:12px 0}"
    "th,td{border:1px solid #e2e8f0;padding:3px 10px;text-align:left}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "thead th{background:#f7fafc}"
    "svg{display:block;max-width:100%;height:auto;margin:8px 0}"
    "svg text{font:12px sans-serif;fill:#2d3748}"
    "svg .ya{text-anchor:end}svg .xa{text-anchor:middle}svg .sub{fill:#718096;font-size:11px}"
    "svg .val{text-anchor:middle;font-size:11px}"
    "svg .grid{stroke:#edf2f7}svg .axis{stroke:#718096}"
    ".note{color:#4a5568;font-size:13px}"
    "div.scroll{max-height:480px;overflow:auto}";

void
dt_page_td (FILE *out, long long value)
{
    fprintf (out, "<td class=\"n\">%lld</td>", value);
}


void
dt_page_head (FILE *out, const char *title)
{
    fputs ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
    dt_page_esc (out, title);
    fprintf (out, "</title>\n<style>%s</style>\n</head>\n<body>\n", dt_page_style);
}
