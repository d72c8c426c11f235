/* libvphb internals shared by its source files. */
#ifndef VPHB_INTERNAL_H
#define VPHB_INTERNAL_H
/* Sets vphb_last_message(): from s/len when s is not NULL, else the text fmt. */
void vphb_set_message_(const char *fmt, const char *s, size_t len);
#endif
