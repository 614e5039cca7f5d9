/* A small network peer for the integration tests, built static so that it
 * runs inside busybox images too (Debian's busybox has no UDP tools):
 *   netpeer udp-echo PORT          answers every datagram with "echo:" + it
 *   netpeer udp-send IP PORT MSG   sends MSG, prints the answer (2 s limit)
 *   netpeer dns PORT IP [wrong]    a DNS server on 127.0.0.1:PORT answering
 *                                  every A query with IP (a fake upstream);
 *                                  prints "query SRCPORT ID" for each; with
 *                                  wrong, answers another question (a spoof) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../network/dnsmsg.h"

static int udp_bound(const char *ip, int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("netpeer: bind");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	uint8_t buf[1500], out[512];
	struct sockaddr_in from;
	socklen_t fl;
	if (argc == 3 && !strcmp(argv[1], "udp-echo")) {
		int fd = udp_bound("0.0.0.0", atoi(argv[2]));
		for (;;) {
			fl = sizeof(from);
			ssize_t n = recvfrom(fd, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&from, &fl);
			if (n < 0)
				continue;
			memcpy(buf, "echo:", 5);
			sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, fl);
		}
	}
	if (argc == 5 && !strcmp(argv[1], "udp-send")) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
		inet_pton(AF_INET, argv[2], &to.sin_addr);
		sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&to, sizeof(to));
		struct pollfd pf = {fd, POLLIN, 0};
		if (poll(&pf, 1, 2000) != 1)
			return 1;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			return 1;
		printf("%.*s\n", (int)n, (char *)buf);
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "dns")) {
		bool wrong = argc == 5 && !strcmp(argv[4], "wrong");
		setvbuf(stdout, NULL, _IOLBF, 0);
		int fd = udp_bound("127.0.0.1", atoi(argv[2]));
		struct in_addr a;
		inet_pton(AF_INET, argv[3], &a);
		uint32_t ip = ntohl(a.s_addr);
		for (;;) {
			fl = sizeof(from);
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			struct dns_query q;
			if (n <= 0 || dns_parse_query(buf, (size_t)n, &q) < 0)
				continue;
			printf("query %u %u\n", ntohs(from.sin_port), q.id);
			if (wrong)
				q.name[0] = q.name[0] == 'x' ? 'y' : 'x';
			int len = dns_build_answer(&q, DNS_RCODE_OK, &ip, q.type == DNS_TYPE_A, 60, out, sizeof(out));
			if (len > 0)
				sendto(fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
		}
	}
	fprintf(stderr, "usage: netpeer udp-echo PORT | udp-send IP PORT MSG | dns PORT IP [wrong]\n");
	return 2;
}
