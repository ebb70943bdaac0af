/* Whether a program about to be executed will load forkguard's preload library.
 *
 * One piece of C for both sides: forkguard run checks the program it starts (Swift calls
 * it through this module), and the preload library checks every exec a process makes (it
 * compiles this file in). So it uses only async-signal-safe calls (open, read, lseek, fstat,
 * close): an exec wrapper may run in a vfork child or between fork and exec. */
#ifndef FG_EXEC_CHECK_H
#define FG_EXEC_CHECK_H

#include <stddef.h>

enum fg_exec_verdict {
  FG_EXEC_INSTRUMENTED = 0,
  FG_EXEC_STATIC = 1,           /* no program interpreter: the dynamic loader never runs */
  FG_EXEC_SETUID = 2,           /* set-user-ID to another user: the loader ignores LD_PRELOAD */
  FG_EXEC_SETGID = 3,           /* set-group-ID to another group: likewise */
  FG_EXEC_GO = 4,               /* a Go program: its runtime forks and locks without libc */
  FG_EXEC_PRELOAD_REMOVED = 5,  /* the new environment has no LD_PRELOAD naming the library */
};

/* The problem with executing `path` (a file, not looked up in PATH) with environment `envp`
 * (NULL: not checked) when `library` is the preload library's path. A `#!` script is judged
 * by its interpreter. Unreadable files and files that are not ELF are not problems: exec
 * fails or another loader runs, and forkguard must not guess. */
int fg_exec_problem(const char *path, char *const envp[], const char *library);

/* A short, stable word for a problem: static, setuid, setgid, go, preload-removed. */
const char *fg_exec_problem_name(int problem);

#endif
