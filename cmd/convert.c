/* berth convert: the project as Kubernetes manifests (convert/). */
#include <stdio.h>

#include "../convert/convert.h"
#include "cli.h"

int cmd_convert(struct global_opts *g, int argc, char **argv)
{
	const char *to = "kubernetes", *out = "out", *publish = NULL;
	bool strict = false, hostpath = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"to", 0, FLAG_STR, &to, "FORMAT",
		 "kubernetes (one directory), kustomize (base/ and overlays/desktop/) or helm (a chart)"},
		{"output", 'o', FLAG_STR, &out, "DIR", "Where the files go (default ./out)"},
		{"publish-type", 0, FLAG_STR, &publish, "TYPE",
		 "Published ports' Service type: ClusterIP, NodePort or LoadBalancer"},
		{"strict", 0, FLAG_BOOL, &strict, NULL, "A compose key with no Kubernetes mapping is an error"},
		{"allow-hostpath", 0, FLAG_BOOL, &hostpath, NULL, "Bind mounts as hostPath volumes"},
	};
	int rc = cmd_flags("convert", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth convert [OPTIONS] [SERVICE...]", "Convert the compose file to Kubernetes manifests.");
	_cleanup_(strv_freep) char **services = pos;
	if (rc < 0 && !streq(to, "kubernetes") && !streq(to, "kustomize") && !streq(to, "helm"))
		rc = usage_error("convert", "--to takes kubernetes, kustomize or helm");
	if (rc < 0 && publish && !streq(publish, "ClusterIP") && !streq(publish, "NodePort") &&
	    !streq(publish, "LoadBalancer"))
		rc = usage_error("convert", "--publish-type takes ClusterIP, NodePort or LoadBalancer");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, services, false, &p, &err);
	struct convert_opts o = {.to = to,
				 .out = out,
				 .services = services,
				 .publish_type = publish,
				 .strict = strict,
				 .allow_hostpath = hostpath,
				 .report = stderr,
				 .created = stdout};
	if (r == 0)
		r = convert_write(p, &o, &err);
	return r < 0 ? report(err) : 0;
}
