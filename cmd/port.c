/* berth port. */
#include <errno.h>

#include "../network/ipam.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "cli.h"

int cmd_port(struct global_opts *g, int argc, char **argv)
{
	const char *proto = "tcp", *index = "1";
	char **pos = NULL;
	const struct flag flags[] = {
		{"protocol", 0, FLAG_STR, &proto, "PROTO", "tcp (default) or udp"},
		{"index", 0, FLAG_STR, &index, "N", "Which replica of the service (default 1)"},
	};
	int rc = cmd_flags("port", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth port [OPTIONS] SERVICE PRIVATE_PORT",
			   "Print the host address a port is published on.");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	_cleanup_(strv_freep) char **args = pos;
	if (strv_len(args) != 2 || (!streq(proto, "tcp") && !streq(proto, "udp"))) {
		fprintf(stderr, "berth port: give SERVICE and PRIVATE_PORT, and --protocol tcp or udp; see berth port "
				"--help\n");
		return 2;
	}
	long port = atol(args[1]), number = atol(index);
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, NULL, false, &p, &err) < 0)
		return report(err);
	if (!project_service(p, args[0]))
		return report((berr_set(&err, ENOENT, "no such service: %s", args[0]), err));
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	int r = berr_set(&err, ENOENT, "service %s has no container number %ld", args[0], number);
	for (size_t i = 0; i < n; i++) {
		if (!streq(list[i].service, args[0]) || list[i].number != number)
			continue;
		berr_free(err);
		err = NULL;
		r = berr_set(&err, ENOENT, "%s does not publish port %ld/%s", list[i].name, port, proto);
		struct net_port *ports = NULL;
		size_t np = 0;
		net_ports(berth_root(), list[i].name, &ports, &np);
		for (size_t k = 0; k < np; k++) {
			if (ports[k].ctr_port != port || ports[k].udp != streq(proto, "udp"))
				continue;
			_cleanup_free_ char *ip = ip_format(ports[k].host_ip);
			printf("%s:%u\n", ip, ports[k].host_port);
			r = 0;
			break;
		}
		free(ports);
	}
	ctr_info_free(list, n);
	if (r == 0) {
		berr_free(err);
		return 0;
	}
	return report(err);
}
