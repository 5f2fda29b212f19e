/* The floor for bench/compare.sh: the least a client can do per request over
 * keep-alive TCP on loopback. C connections, blocking sockets, no event loop: each
 * round sends one GET on every connection, then reads each answer whole
 * (Content-Length framing), so a request costs one send and one recv (more only if an
 * answer comes in pieces). No parsing beyond the framing, no timing, no histogram.
 *
 *   floor HOST PORT CONNECTIONS SECONDS    prints "requests N"
 *
 * Built by compare.sh with `cc -O2`; bounded by SECONDS and stops by itself.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Reads one answer whole from fd; 0 when done, -1 on error or close. */
static int read_answer(int fd, char *buf, size_t cap) {
    size_t have = 0;
    long want = -1;
    for (;;) {
        ssize_t n = recv(fd, buf + have, cap - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
        if (want < 0) {
            char *end = memmem(buf, have, "\r\n\r\n", 4);
            if (!end) {
                if (have == cap) return -1;
                continue;
            }
            char *cl = memmem(buf, (size_t)(end - buf), "Content-Length:", 15);
            if (!cl) cl = memmem(buf, (size_t)(end - buf), "content-length:", 15);
            long body = cl ? atol(cl + 15) : 0;
            want = (end - buf) + 4 + body;
            if (want > (long)cap) return -1;
        }
        if ((long)have >= want) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: floor HOST PORT CONNECTIONS SECONDS\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), conns = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (conns < 1 || conns > 10000 || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "floor: 1-10000 connections, 0-3600 seconds\n");
        return 2;
    }
    char request[256];
    int len = snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port);
    int *fds = calloc((size_t)conns, sizeof(int));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "floor: HOST must be an IPv4 address\n");
        return 2;
    }
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fds[i], (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("floor: connect");
            return 1;
        }
    }
    static char buf[65536];
    long requests = 0;
    double end = now() + seconds;
    while (now() < end) {
        for (int i = 0; i < conns; i++)
            if (send(fds[i], request, (size_t)len, MSG_NOSIGNAL) != len) goto done;
        for (int i = 0; i < conns; i++) {
            if (read_answer(fds[i], buf, sizeof buf) != 0) goto done;
            requests++;
        }
    }
done:
    printf("requests %ld\n", requests);
    return 0;
}
