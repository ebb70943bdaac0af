"""Writes a C file of about MEGABYTES megabytes on stdout, for benchmarks/big-file.sh: the
shape of generated code (parsers, tables, bindings) rather than of one hand-written file.
Thousands of ordinary functions, each with locals, a loop, a switch, struct fields, a
macro, calls to earlier functions and to libc, and a lock taken and released; every few
hundred a fork whose child calls only _exit, and a signal handler. It compiles without a
warning under `clang-14 -fsyntax-only -Wall`, and the same MEGABYTES give the same bytes.

    python3 benchmarks/generate-big-c.py 50 > generated-50mb.c
"""
import random
import sys

megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 50
target = int(megabytes * 1_000_000)
rng = random.Random(17)
out = sys.stdout
written = 0


def emit(text):
    global written
    out.write(text)
    written += len(text)


emit(
    """#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define FLAG_A 0x1
#define FLAG_B 0x2

struct record {
  int id;
  int flags;
  long total;
  char name[32];
  struct record *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct record table[64];
static int verbose;

"""
)

index = 0
while written < target:
    callee = f"step_{rng.randrange(index)}" if index else None
    body = [
        f"int step_{index}(struct record *r, int n) {{",
        "  int sum = 0;",
        "  char buffer[64];",
        "  for (int i = 0; i < n; i++) {",
        f"    sum += CLAMP(r->total + i * {rng.randrange(1, 97)}, 0, {rng.randrange(100, 10000)});",
        "    if ((r->flags & FLAG_A) && i % 3 == 0)",
        "      sum ^= r->id;",
        "  }",
        f"  switch (n % {rng.randrange(3, 7)}) {{",
        "  case 0:",
        f"    snprintf(buffer, sizeof buffer, \"%s-{index}\", r->name);",
        "    sum += (int)strlen(buffer);",
        "    break;",
        "  case 1:",
        "    r->flags |= FLAG_B;",
        "    break;",
        "  default:",
        "    if (verbose)",
        f"      fprintf(stderr, \"step {index}: %d\\n\", sum);",
        "  }",
        "  pthread_mutex_lock(&table_lock);",
        f"  table[{index % 64}].total += sum;",
        "  pthread_mutex_unlock(&table_lock);",
    ]
    if callee:
        body.append(f"  if (r->next != NULL && n > 1)\n    sum += {callee}(r->next, n - 1);")
    if index % 400 == 7:
        body += [
            "  pid_t child = fork();",
            "  if (child == 0) {",
            "    execlp(\"true\", \"true\", (char *)NULL);",
            "    _exit(127);",
            "  }",
        ]
    body += ["  return sum;", "}", ""]
    if index % 500 == 11:
        body += [
            f"static void on_signal_{index}(int signal_number) {{",
            "  (void)signal_number;",
            "  static const char message[] = \"signal\\n\";",
            "  (void)write(2, message, sizeof message - 1);",
            "}",
            "",
            f"void install_{index}(void) {{ signal(SIGTERM, on_signal_{index}); }}",
            "",
        ]
    emit("\n".join(body) + "\n")
    index += 1

emit(
    f"""int main(int argc, char **argv) {{
  (void)argv;
  verbose = argc > 1;
  struct record head = {{0}};
  return step_{index - 1}(&head, argc) > 0 ? 0 : 1;
}}
"""
)
