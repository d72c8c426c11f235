/* The README's C client example, compiled by make tests so that it cannot drift (test/clients/c.test.ts checks it is embedded verbatim). */
#include "vphb.h"
#include <err.h>
#include <errno.h>

int main(void)
{
    vphb_conn *c;
    char msg[256];
    if (vphb_connect("tcp://127.0.0.1:7000", &(vphb_options){ .client = "my-vmm", .token = "s3cret" }, &c, msg, sizeof msg) < 0)
        errx(1, "%s", msg);                                     /* also a UNIX path, or NULL for the default */
    struct vphb_vfio_open_container_rep cont;
    vphb_vfio_open_container(c, &cont);                         /* every op of ops.json has a typed wrapper */
    int r = vphb_vfio_group_open(c, &(struct vphb_vfio_group_open_req){ .group = 999 }, &(struct vphb_vfio_group_open_rep){ 0 });
    if (r == -ENOENT)                                          /* errors are negative errnos */
        warnx("%s", vphb_last_message());                     /* the server's explanation */
    uint16_t id[2];                                             /* pipelining: send many, wait in any order */
    vphb_ping_send(c, &(struct vphb_ping_req){ 0 }, &id[0]);
    vphb_ping_send(c, &(struct vphb_ping_req){ 0 }, &id[1]);
    vphb_ping_recv(c, id[1], &(struct vphb_ping_rep){ 0 });
    vphb_ping_recv(c, id[0], &(struct vphb_ping_rep){ 0 });
    vphb_disconnect(c);
    return 0;
}
