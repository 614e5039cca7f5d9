/* Registry credentials (config.json, credential helpers) and the
 * WWW-Authenticate challenges registries send. */
#include "helpers.h"

#include <stdlib.h>
#include <unistd.h>

#include "../../images/auth.h"
#include "../../images/pull.h"

static char *dir;

static int setup(void **state)
{
	dir = tmpdir_new();
	setenv("DOCKER_CONFIG", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	unsetenv("DOCKER_CONFIG");
	rm_rf(dir);
	free(dir);
	return 0;
}

static void challenges(void **state)
{
	struct challenge c;
	assert_int_equal(
		auth_parse_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
				     "scope=\"repository:library/busybox:pull\"",
				     &c),
		0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	challenge_free(&c);
	/* Basic, a quoted escape, spaces around the parts, an unknown parameter */
	assert_int_equal(auth_parse_challenge("  BASIC realm = \"a \\\"b\\\" c\" , charset=UTF-8", &c), 0);
	assert_string_equal(c.scheme, "basic");
	assert_string_equal(c.realm, "a \"b\" c");
	assert_null(c.service);
	challenge_free(&c);
	assert_int_equal(auth_parse_challenge("Bearer realm=https://x/t,error=insufficient_scope", &c), 0);
	assert_string_equal(c.realm, "https://x/t");
	assert_string_equal(c.error, "insufficient_scope");
	challenge_free(&c);
	assert_int_equal(auth_parse_challenge("", &c), -1);
	assert_int_equal(auth_parse_challenge("Bearer realm=\"unterminated", &c), -1);
	assert_int_equal(auth_parse_challenge("Bearer realm", &c), -1);
}

static void config_lookup(void **state)
{
	struct creds c;
	struct berr *err = NULL;
	assert_int_equal(auth_lookup("docker.io", &c, &err), 0); /* no file */
	/* user:pass and u2:p:w (a colon in the password) */
	write_file(dir, "config.json",
		   "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYXNz\"},"
		   " \"http://127.0.0.1:5000/v2/\": {\"auth\": \"dTI6cDp3\"},"
		   " \"quay.io\": {\"identitytoken\": \"tok\"},"
		   " \"bad.example\": {\"auth\": \"bm9jb2xvbg==\"}}}");
	assert_int_equal(auth_lookup("registry-1.docker.io", &c, &err), 1);
	assert_string_equal(c.username, "user");
	assert_string_equal(c.password, "pass");
	creds_free(&c);
	assert_int_equal(auth_lookup("127.0.0.1:5000", &c, &err), 1);
	assert_string_equal(c.username, "u2");
	assert_string_equal(c.password, "p:w");
	creds_free(&c);
	assert_int_equal(auth_lookup("quay.io", &c, &err), 1);
	assert_string_equal(c.identity_token, "tok");
	assert_null(c.username);
	creds_free(&c);
	assert_int_equal(auth_lookup("127.0.0.1:5001", &c, &err), 0);
	assert_true(auth_lookup("bad.example", &c, &err) < 0);
	assert_non_null(strstr(err->msg, "damaged"));
	assert_null(strstr(err->msg, "nocolon")); /* what it holds is not said */
	berr_free(err);
	err = NULL;
	write_file(dir, "config.json", "{not json");
	assert_true(auth_lookup("docker.io", &c, &err) < 0);
	assert_non_null(strstr(err->msg, "config.json:1:"));
	berr_free(err);
}

static void save_and_erase(void **state)
{
	struct berr *err = NULL;
	write_file(dir, "config.json", "{\"auths\": {}, \"psFormat\": \"keep me\"}");
	struct creds in = {.username = xstrdup("me"), .password = xstrdup("s3cret")};
	assert_int_equal(auth_save("127.0.0.1:5000", &in, &err), 0);
	creds_free(&in);
	char *path = path_join(dir, "config.json");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *text = NULL;
	size_t len;
	assert_int_equal(fs_read_file(path, 1 << 16, &text, &len, NULL), 0);
	assert_non_null(strstr(text, "bWU6czNjcmV0")); /* base64 of me:s3cret */
	assert_non_null(strstr(text, "keep me"));
	assert_null(strstr(text, "s3cret"));
	free(text);
	struct creds c;
	assert_int_equal(auth_lookup("127.0.0.1:5000", &c, &err), 1);
	assert_string_equal(c.password, "s3cret");
	creds_free(&c);
	assert_int_equal(auth_erase("127.0.0.1:5000", &err), 1);
	assert_int_equal(auth_erase("127.0.0.1:5000", &err), 0);
	assert_int_equal(auth_lookup("127.0.0.1:5000", &c, &err), 0);
	free(path);
}

/* A credential helper on PATH, as docker-credential-pass or -ecr-login would be. */
static void helpers(void **state)
{
	struct berr *err = NULL;
	write_file(dir, "docker-credential-fake",
		   "#!/bin/sh\nread server\ncase \"$1 $server\" in\n"
		   "\"get 127.0.0.1:5000\") echo '{\"ServerURL\":\"x\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
		   "\"get ghcr.io\") echo '{\"Username\":\"<token>\",\"Secret\":\"idt\"}' ;;\n"
		   "get*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
		   "*) exit 3 ;;\nesac\n");
	char *script = path_join(dir, "docker-credential-fake");
	chmod(script, 0755);
	free(script);
	const char *old = getenv("PATH");
	char *saved = xstrdup(old ? old : "");
	char *path = xasprintf("%s:%s", dir, saved);
	setenv("PATH", path, 1);
	write_file(dir, "config.json", "{\"credHelpers\": {\"127.0.0.1:5000\": \"fake\"}, \"credsStore\": \"fake\"}");
	struct creds c;
	assert_int_equal(auth_lookup("127.0.0.1:5000", &c, &err), 1);
	assert_string_equal(c.username, "hu");
	assert_string_equal(c.password, "hs");
	creds_free(&c);
	assert_int_equal(auth_lookup("ghcr.io", &c, &err), 1);
	assert_string_equal(c.identity_token, "idt");
	creds_free(&c);
	assert_int_equal(auth_lookup("other.example", &c, &err), 0);
	struct creds in = {.username = xstrdup("a"), .password = xstrdup("b")};
	assert_true(auth_save("127.0.0.1:5000", &in, &err) < 0); /* the helper's store exits 3 */
	assert_non_null(strstr(err->msg, "docker-credential-fake"));
	assert_null(strstr(err->msg, "\"b\""));
	berr_free(err);
	err = NULL;
	creds_free(&in);
	write_file(dir, "config.json", "{\"credsStore\": \"missing\"}");
	assert_true(auth_lookup("docker.io", &c, &err) < 0);
	assert_non_null(strstr(err->msg, "docker-credential-missing"));
	berr_free(err);
	setenv("PATH", saved, 1);
	free(saved);
	free(path);
}

static void platforms(void **state)
{
	assert_true(platform_valid("linux/amd64"));
	assert_true(platform_valid("linux/arm/v7"));
	assert_false(platform_valid("linux"));
	assert_false(platform_valid("linux/"));
	assert_false(platform_valid("linux//v7"));
	assert_false(platform_valid("a/b/c/d"));
	char *h = platform_host();
	assert_true(platform_valid(h));
	assert_true(startswith(h, "linux/"));
	free(h);
}

static const char *picked(const char *index, const char *platform)
{
	static char digest[80];
	json_t *j = json_loads(index, 0, NULL);
	assert_non_null(j);
	json_t *m = platform_pick(json_object_get(j, "manifests"), platform);
	snprintf(digest, sizeof(digest), "%s", m ? json_string_value(json_object_get(m, "digest")) : "none");
	json_decref(j);
	return digest;
}

static void picking(void **state)
{
	const char *index = "{\"manifests\": ["
			    "{\"digest\": \"att\", \"platform\": {\"os\": \"unknown\", \"architecture\": \"unknown\"}},"
			    "{\"digest\": \"arm6\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", "
			    "\"variant\": \"v6\"}},"
			    "{\"digest\": \"arm7\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", "
			    "\"variant\": \"v7\"}},"
			    "{\"digest\": \"arm64\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\", "
			    "\"variant\": \"v8\"}},"
			    "{\"digest\": \"amd64\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},"
			    "{\"digest\": \"win\", \"platform\": {\"os\": \"windows\", \"architecture\": \"amd64\"}}]}";
	assert_string_equal(picked(index, "linux/amd64"), "amd64");
	assert_string_equal(picked(index, "windows/amd64"), "win");
	assert_string_equal(picked(index, "linux/arm64"), "arm64");
	assert_string_equal(picked(index, "linux/arm64/v8"), "arm64");
	assert_string_equal(picked(index, "linux/arm/v7"), "arm7");
	assert_string_equal(picked(index, "linux/arm/v6"), "arm6");
	assert_string_equal(picked(index, "linux/arm"), "arm7"); /* no variant asked: the highest */
	assert_string_equal(picked(index, "linux/s390x"), "none");
	assert_string_equal(picked("{\"manifests\": [{\"digest\": \"arm6\", \"platform\": {\"os\": \"linux\", "
				   "\"architecture\": \"arm\", \"variant\": \"v6\"}}]}",
				   "linux/arm/v7"),
			    "arm6"); /* v7 runs v6 */
	assert_string_equal(picked("{\"manifests\": [{\"digest\": \"arm7\", \"platform\": {\"os\": \"linux\", "
				   "\"architecture\": \"arm\", \"variant\": \"v7\"}}]}",
				   "linux/arm/v6"),
			    "none"); /* but v6 does not run v7 */
}

/* Where a registry's credentials may go: its own scheme, host and port. */
static void origins(void **state)
{
	char *o = auth_origin("https://Registry.Example:443/v2/x/blobs/uploads/1?a=b");
	assert_string_equal(o, "https://registry.example:443");
	free(o);
	o = auth_origin("http://user:pw@127.0.0.1:5000/x");
	assert_string_equal(o, "http://127.0.0.1:5000");
	free(o);
	o = auth_origin("http://[::1]/x");
	assert_string_equal(o, "http://[::1]:80");
	free(o);
	assert_null(auth_origin("ftp://host/x"));
	assert_null(auth_origin("/v2/relative"));
	assert_true(auth_same_origin("https://r.example/v2/", "https://r.example:443/upload?x"));
	assert_false(auth_same_origin("https://r.example/v2/", "http://r.example/v2/"));         /* scheme */
	assert_false(auth_same_origin("http://127.0.0.1:5000/", "http://127.0.0.1:5001/"));      /* port */
	assert_false(auth_same_origin("https://r.example/", "https://r.example.evil/"));         /* host */
	assert_false(auth_same_origin("https://r.example/", "https://r.example@evil.example/")); /* userinfo */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(challenges), T(config_lookup), T(save_and_erase), T(helpers), T(platforms), T(picking), T(origins),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
