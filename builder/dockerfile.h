/* Dockerfiles as BuildKit's frontend reads them: parser directives
 * (syntax, escape), comments, line continuations, heredocs, flags, exec and
 * shell forms; and the variable expansion Docker applies to most
 * instructions. Pure: no file is read here but the text given. */
#ifndef BERTH_DOCKERFILE_H
#define BERTH_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/err.h"

struct df_heredoc {
	char *name;      /* EOF */
	char *body;      /* the lines between, each with its newline */
	bool expand;     /* <<EOF (true) or <<"EOF" / <<'EOF' (false) */
	bool chomp_tabs; /* <<-EOF: leading tabs removed */
};

struct df_instr {
	char *cmd;      /* upper case: FROM, RUN, ... */
	int line;       /* where it starts */
	char **flags;   /* "--name=value" or "--name", in order */
	char *rest;     /* the text after the flags, continuations joined */
	bool exec_form; /* rest is a JSON array of strings: argv */
	char **argv;    /* exec form */
	struct df_heredoc *heredocs;
	size_t nheredocs;
};

struct dockerfile {
	char *name;   /* as messages name it: "Dockerfile", "app/Dockerfile.prod" */
	char *syntax; /* "# syntax=" when given (noted, not fetched) */
	char escape;  /* '\\' or '`' */
	struct df_instr *instrs;
	size_t n;
};

/* Parses text (len bytes) of the Dockerfile name. Errors say "NAME:LINE:
 * INSTRUCTION: what". An unknown instruction is refused by name. */
int dockerfile_parse(const char *name, const char *text, size_t len, struct dockerfile *out, struct berr **err);
void dockerfile_free(struct dockerfile *d);

/* The value of a variable, or NULL when it is not set. */
typedef const char *(*df_lookup_fn)(void *data, const char *name);
/* Docker's shell-word processing, as ENV, LABEL, ARG, COPY and the like
 * read their text: quotes ('…' literal, "…" with expansion), the escape
 * character keeping the next one as it is, and (lookup given) $VAR,
 * ${VAR}, ${VAR:-word}, ${VAR:+word}, ${VAR-word}, ${VAR+word}, unset
 * variables empty. df_words splits at unquoted blanks; df_word keeps the
 * text one word. An unclosed quote or brace is an error. */
int df_words(const char *s, char escape, df_lookup_fn lookup, void *data, char ***out, struct berr **err);
int df_word(const char *s, char escape, df_lookup_fn lookup, void *data, char **out, struct berr **err);

#endif
