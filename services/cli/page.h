/*  page.h - what the CLI's HTML pages (`dualtrack report`, `dualtrack
    whatif`) share: one self-contained page (inline CSS, charts as inline
    SVG, no script, font, image or link leaving it), escaping of every
    string from the store, the axes, legends and colours of the charts,
    and the strict UTC day both take as --from and --to.
*/
#ifndef DT_CLI_PAGE_H
#define DT_CLI_PAGE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

//  Series colours (rules, ...), used in turn
#define DT_PAGE_COLORS 10
extern const char *const dt_page_colors [DT_PAGE_COLORS];

//  Zeroed memory for count items (at least one) of size bytes; exits with
//  status 2 after printing why if there is none
void *dt_page_alloc (size_t count, size_t size);

//  The page's style sheet
extern const char *const dt_page_style;

//  A strict YYYY-MM-DD that names a real day (2000 to 2099): its UTC
//  midnight in *at
bool dt_page_parse_day (const char *text, time_t *at);

//  The doctype, head (title escaped, the style) and the opening <body>
void dt_page_head (FILE *out, const char *title);

//  Text for an element or an attribute value, escaped
void dt_page_esc (FILE *out, const char *text);

//  At most max characters (UTF-8 aware) of text, with an ellipsis if cut
void dt_page_esc_cut (FILE *out, const char *text, int max);

//  part of whole as "12.5%", or "n/a" when whole is 0
void dt_page_percent (FILE *out, long long part, long long whole);

//  A round upper bound for an axis (1, 2 or 5 times a power of ten per
//  step, four or five steps); its step through *step
long long dt_page_nice_max (long long max, long long *step);

//  <svg> of this size with its label as aria-label and title
void dt_page_svg_open (FILE *out, int width, int height, const char *label);

//  Horizontal grid lines and the value labels of a vertical axis
void dt_page_y_axis (FILE *out, int left, int right, int top, int bottom, long long max,
                     long long step);

//  A coloured square and its label
void dt_page_legend_item (FILE *out, int x, int y, const char *color, const char *label);

//  A right-aligned number cell
void dt_page_td (FILE *out, long long value);

#endif
