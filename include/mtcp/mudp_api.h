/* mtcp-vnf UDP extension: datagram sockets on the same contexts. Unlike the
 * original extension, sendto copies the data and returns the byte count, and
 * recvfrom returns -1/EAGAIN when empty on a non-blocking socket. */
#ifndef MUDP_API_H
#define MUDP_API_H

#include "mtcp_api.h"

#ifdef __cplusplus
extern "C" {
#endif

ssize_t mudp_sendto(mctx_t mctx, int sockid, const void *buf, size_t len, int flags,
                    const struct sockaddr *dest_addr, socklen_t addrlen);
ssize_t mudp_recvfrom(mctx_t mctx, int sockid, void *buf, size_t len, int flags,
                      struct sockaddr *src_addr, socklen_t *addrlen);
int mudp_close(mctx_t mctx, int sockid);

#ifdef __cplusplus
}
#endif

#endif /* MUDP_API_H */
