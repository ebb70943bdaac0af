/* forkguard's front door, in plain C so that `forkguard run` costs the program almost
 * nothing to start: the Swift tool loads libclang, LLVM and Foundation (about 35 ms and
 * 78 MiB before main), and a run that reports nothing needs none of it.
 *
 *   forkguard-launcher run [run options] [--] PROGRAM [ARGUMENT...]
 *       Runs PROGRAM under the preload library. Reports arrive on a datagram socket; the
 *       Swift tool is started to symbolize and print them only when the first one arrives
 *       (`forkguard run --reports-from-fd 3`, fed through a pipe).
 *   forkguard-launcher --report-fd N --library PATH run [options] [--] PROGRAM [ARGUMENT...]
 *       The same, but every report goes to descriptor N, which the caller reads, and the
 *       library is the one given: this is how the Swift tool's own `forkguard run` launches
 *       (ForkGuardRuntime's RuntimeRun).
 *   forkguard-launcher ANYTHING ELSE
 *       Executes the Swift tool with the same arguments. So does any run this launcher does
 *       not take on itself (a format other than text, --help, an unknown option, a program
 *       that cannot be found): the tool then says what is wrong, in one place.
 *
 * The installed package's /usr/bin/forkguard is this program. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fg_exec_check.h"

extern char **environ;

#define FG_LIBRARY_NAME "libforkguard-preload.so"
#define FG_TOOL_NAME "forkguard"
/* Out of the way of the low numbers programs use and expect (bash keeps 255 for itself). */
#define FG_INHERITED_FD_FLOOR 900
#define FG_TRAPPED_EXIT 2

static const int fg_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define FG_FORWARDED_COUNT (sizeof fg_forwarded_signals / sizeof fg_forwarded_signals[0])

/* The program a forwarding handler signals, and a signal that came before it existed. */
static volatile pid_t fg_forward_target;
static volatile sig_atomic_t fg_forward_pending;

struct fg_run_options {
  int track, unsafe_calls;
  const char *on_deadlock, *output, *color;
  int program_index; /* argv index of the program */
};

/* ---- finding the files next to this one ---------------------------------------------- */

static char fg_self_directory[PATH_MAX];

static void fg_find_self(void) {
  char path[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = 0;
  char *slash = strrchr(path, '/');
  if (slash) *slash = 0;
  snprintf(fg_self_directory, sizeof fg_self_directory, "%s", path);
}

static int fg_is_file(const char *path, int executable) {
  struct stat status;
  return stat(path, &status) == 0 && S_ISREG(status.st_mode) && (!executable || access(path, X_OK) == 0);
}

/* The first of the candidates (relative to this binary's folder) that exists. */
static int fg_next_to_self(const char *variable, const char *const candidates[], int executable, char *found,
                           size_t size) {
  const char *given = getenv(variable);
  if (given && *given) {
    snprintf(found, size, "%s", given);
    return fg_is_file(found, executable);
  }
  for (int i = 0; candidates[i]; i++) {
    int length = snprintf(found, size, "%s/%s", fg_self_directory, candidates[i]);
    if (length > 0 && (size_t)length < size && fg_is_file(found, executable)) return 1;
  }
  return 0;
}

/* The Swift tool: beside this binary in an installed package (/usr/lib/forkguard), else the
 * SwiftPM build this launcher was built into (.build/preload beside .build/release and
 * .build/debug: the one built last). */
static int fg_find_tool(char *found, size_t size) {
  static const char *const beside[] = {FG_TOOL_NAME, NULL};
  if (fg_next_to_self("FORKGUARD_TOOL", beside, 1, found, size)) return 1;
  const char *given = getenv("FORKGUARD_TOOL");
  if (given && *given) return 0; /* named, and not there: no other one stands in */
  static const char *const builds[] = {"../release/" FG_TOOL_NAME, "../debug/" FG_TOOL_NAME};
  struct timespec newest = {0, 0};
  int any = 0;
  for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++) {
    char candidate[PATH_MAX];
    struct stat status;
    int length = snprintf(candidate, sizeof candidate, "%s/%s", fg_self_directory, builds[i]);
    if (length <= 0 || (size_t)length >= sizeof candidate || stat(candidate, &status) != 0) continue;
    if (access(candidate, X_OK) != 0) continue;
    if (!any || status.st_mtim.tv_sec > newest.tv_sec ||
        (status.st_mtim.tv_sec == newest.tv_sec && status.st_mtim.tv_nsec > newest.tv_nsec)) {
      newest = status.st_mtim;
      snprintf(found, size, "%s", candidate);
      any = 1;
    }
  }
  return any;
}

static int fg_find_library(char *found, size_t size) {
  static const char *const candidates[] = {FG_LIBRARY_NAME, "lib/" FG_LIBRARY_NAME, NULL};
  return fg_next_to_self("FORKGUARD_PRELOAD_LIBRARY", candidates, 0, found, size);
}

/* Hands the whole command line to the Swift tool; does not return. */
__attribute__((noreturn)) static void fg_exec_tool(char **argv) {
  char tool[PATH_MAX];
  if (!fg_find_tool(tool, sizeof tool)) {
    const char *given = getenv("FORKGUARD_TOOL");
    if (given && *given) fprintf(stderr, "forkguard: error: FORKGUARD_TOOL=%s: no such executable\n", given);
    else fprintf(stderr, "forkguard: error: cannot find the forkguard tool next to %s; set FORKGUARD_TOOL\n", fg_self_directory);
    exit(FG_TRAPPED_EXIT);
  }
  argv[0] = FG_TOOL_NAME;
  execv(tool, argv);
  fprintf(stderr, "forkguard: error: %s: cannot run: %s\n", tool, strerror(errno));
  exit(FG_TRAPPED_EXIT);
}

/* A program name is looked up in PATH as a shell would. */
static int fg_find_program(const char *program, char *found, size_t size) {
  if (strchr(program, '/')) {
    snprintf(found, size, "%s", program);
    return access(found, F_OK) == 0;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/bin:/bin";
  while (*path) {
    const char *end = strchrnul(path, ':');
    int length = snprintf(found, size, "%.*s/%s", (int)(end - path), path, program);
    if (end > path && length > 0 && (size_t)length < size && fg_is_file(found, 1)) return 1;
    path = *end ? end + 1 : end;
  }
  return 0;
}

/* ---- run's options ------------------------------------------------------------------- */

/* `--name value` or `--name=value`; the value, or NULL when this word is not that option. */
static const char *fg_option_value(char **argv, int *index, const char *name) {
  size_t length = strlen(name);
  const char *word = argv[*index];
  if (strncmp(word, name, length) != 0) return NULL;
  if (word[length] == '=') return word + length + 1;
  if (word[length] != 0 || !argv[*index + 1]) return NULL;
  return argv[++*index];
}

/* Run's options, as the Swift tool's Run command has them (its optionsWithValues; a test
 * checks that both agree). 0 when the launcher should leave this run to the Swift tool. */
static int fg_parse_run(char **argv, int first, struct fg_run_options *options) {
  memset(options, 0, sizeof *options);
  options->color = "auto";
  int index = first;
  for (; argv[index]; index++) {
    const char *word = argv[index], *value;
    if (strcmp(word, "--") == 0) {
      index++;
      break;
    }
    if (word[0] != '-') break;
    if (strcmp(word, "--track") == 0) options->track = 1;
    else if (strcmp(word, "--unsafe-calls") == 0) options->unsafe_calls = 1;
    else if ((value = fg_option_value(argv, &index, "--on-deadlock"))) {
      if (strcmp(value, "abort") && strcmp(value, "edeadlk") && strcmp(value, "continue")) return 0;
      options->on_deadlock = value;
    } else if ((value = fg_option_value(argv, &index, "--format"))) {
      /* A whole-document format is written at the end by the tool anyway. */
      if (strcmp(value, "text") != 0) return 0;
    } else if ((value = fg_option_value(argv, &index, "--output"))) {
      options->output = value;
    } else if ((value = fg_option_value(argv, &index, "--color"))) {
      if (strcmp(value, "auto") && strcmp(value, "always") && strcmp(value, "never")) return 0;
      options->color = value;
    } else {
      return 0; /* --help, or an option the tool will name in its error */
    }
  }
  if (!argv[index]) return 0;
  options->program_index = index;
  return 1;
}

/* ---- the report socket --------------------------------------------------------------- */

struct fg_socket {
  char name[64];
  int receiving, inherited;
};

static socklen_t fg_address(const char *name, struct sockaddr_un *address) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  size_t length = strlen(name);
  memcpy(address->sun_path + 1, name, length); /* abstract: the name follows a NUL */
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
}

/* An abstract datagram socket (no file to leave behind, no permissions, so a process that
 * changed user still reaches it) and one connected to it that every process inherits. */
static int fg_open_socket(struct fg_socket *sock) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  snprintf(sock->name, sizeof sock->name, "forkguard-%d-%lx", (int)getpid(),
           (unsigned long)(now.tv_nsec ^ (now.tv_sec << 20)));
  struct sockaddr_un address;
  socklen_t length = fg_address(sock->name, &address);
  sock->receiving = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock->receiving < 0) return -1;
  int size = 4 << 20; /* room for many reports while the program runs ahead of the reader */
  setsockopt(sock->receiving, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (bind(sock->receiving, (struct sockaddr *)&address, length) != 0) return -1;
  int sending = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (sending < 0 || connect(sending, (struct sockaddr *)&address, length) != 0) return -1;
  sock->inherited = fcntl(sending, F_DUPFD, FG_INHERITED_FD_FLOOR);
  if (sock->inherited < 0) sock->inherited = sending;
  else close(sending);
  return 0;
}

/* ---- where reports go ---------------------------------------------------------------- */

struct fg_sink {
  int fd;            /* the pipe to the formatter, or the caller's descriptor; -1: none yet */
  int lazy;          /* start the Swift tool at the first report */
  pid_t formatter;
  char **tool_argv;  /* its command line */
  int socket_fd;     /* closed in the formatter */
};

static void fg_write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t wrote = write(fd, data, size);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return; /* the reader is gone: its own exit status says why */
    data += wrote;
    size -= (size_t)wrote;
  }
}

static void fg_start_formatter(struct fg_sink *sink) {
  char tool[PATH_MAX];
  int pipe_fds[2];
  if (!fg_find_tool(tool, sizeof tool) || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    fprintf(stderr, "forkguard: error: cannot start the forkguard tool to print a report (set FORKGUARD_TOOL)\n");
    sink->lazy = 0;
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 3);
  posix_spawn_file_actions_addclose(&actions, sink->socket_fd);
  if (posix_spawn(&sink->formatter, tool, &actions, NULL, sink->tool_argv, environ) != 0) sink->formatter = 0;
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[0]);
  sink->fd = pipe_fds[1];
  sink->lazy = 0;
}

/* Reports are lines; a datagram holds whole ones, and the reader splits them again. */
static void fg_deliver(struct fg_sink *sink, const char *data, size_t size) {
  if (size == 0) return;
  if (sink->fd < 0 && sink->lazy) fg_start_formatter(sink);
  if (sink->fd < 0) return;
  fg_write_all(sink->fd, data, size);
  if (data[size - 1] != '\n') fg_write_all(sink->fd, "\n", 1);
}

static void fg_drain(int receiving, struct fg_sink *sink) {
  static char buffer[65536];
  for (;;) {
    ssize_t got = recv(receiving, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    fg_deliver(sink, buffer, (size_t)got);
  }
}

/* ---- signals ------------------------------------------------------------------------- */

static void fg_forward(int signal, siginfo_t *info, void *context) {
  (void)context;
  /* si_code > 0: the kernel sent it (a terminal's ^C, a hangup), to the program too. */
  if (!info || info->si_code > 0) return;
  if (fg_forward_target > 0) kill(fg_forward_target, signal);
  else fg_forward_pending = signal;
}

static void fg_install_forwarding(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = fg_forward;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigset_t unblock;
  sigemptyset(&unblock);
  for (size_t i = 0; i < FG_FORWARDED_COUNT; i++) {
    sigaction(fg_forwarded_signals[i], &action, NULL);
    sigaddset(&unblock, fg_forwarded_signals[i]);
  }
  /* A writer to a formatter that died must not die with it. */
  signal(SIGPIPE, SIG_IGN);
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* ---- the program --------------------------------------------------------------------- */

/* The environment with LD_PRELOAD and FORKGUARD_OPTIONS set for this run. */
static char **fg_environment(const char *library, const struct fg_run_options *options,
                             const struct fg_socket *sock) {
  size_t count = 0;
  while (environ[count]) count++;
  char **result = calloc(count + 3, sizeof *result);
  const char *preload = getenv("LD_PRELOAD"), *settings = getenv("FORKGUARD_OPTIONS");
  size_t used = 0;
  for (size_t i = 0; i < count; i++) {
    if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0 || strncmp(environ[i], "FORKGUARD_OPTIONS=", 18) == 0) continue;
    result[used++] = environ[i];
  }
  if (preload && *preload) asprintf(&result[used++], "LD_PRELOAD=%s %s", preload, library);
  else asprintf(&result[used++], "LD_PRELOAD=%s", library);
  asprintf(&result[used++], "FORKGUARD_OPTIONS=%s%s%s%s%s%s%slog_socket=%s:log_fd=%d",
           settings && *settings ? settings : "", settings && *settings ? ":" : "",
           options->track ? "mode=track:" : "", options->unsafe_calls ? "unsafe_calls=1:" : "",
           options->on_deadlock ? "on_deadlock=" : "", options->on_deadlock ? options->on_deadlock : "",
           options->on_deadlock ? ":" : "", sock->name, sock->inherited);
  result[used] = NULL;
  return result;
}

static pid_t fg_spawn_program(const char *path, char **argv, char **environment, const sigset_t *mask) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  /* The program gets the signal mask forkguard was started with, and the default action for
   * what forkguard catches or ignores for itself. */
  sigset_t defaults;
  sigemptyset(&defaults);
  for (size_t i = 0; i < FG_FORWARDED_COUNT; i++) sigaddset(&defaults, fg_forwarded_signals[i]);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t child = 0;
  int failed = posix_spawn(&child, path, NULL, &attributes, argv, environment);
  posix_spawnattr_destroy(&attributes);
  if (failed) {
    fprintf(stderr, "forkguard: error: %s: cannot run: %s\n", path, strerror(failed));
    return -1;
  }
  return child;
}

/* Reports until the program ends; its exit status as a shell reports it. */
static int fg_wait(pid_t child, int receiving, struct fg_sink *sink) {
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  int status = 0;
  for (;;) {
    struct pollfd watched[2] = {{.fd = receiving, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    /* Without a pidfd (an old kernel, an emulator), look for the end every 20 ms. */
    int ready = poll(watched, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 20);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0 && (watched[0].revents & POLLIN)) fg_drain(receiving, sink);
    pid_t waited = waitpid(child, &status, WNOHANG);
    if (waited == child || (waited < 0 && errno != EINTR)) break;
  }
  if (pidfd >= 0) close(pidfd);
  /* What the program's processes sent before it ended is queued on the socket. */
  fg_drain(receiving, sink);
  return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 0;
}

/* The Swift tool's command line as the formatter: run's own options, then the program. */
static char **fg_formatter_argv(char **argv, const struct fg_run_options *options) {
  int count = 0;
  while (argv[count]) count++;
  char **result = calloc((size_t)count + 8, sizeof *result);
  int used = 0;
  result[used++] = FG_TOOL_NAME;
  result[used++] = "run";
  result[used++] = "--reports-from-fd";
  result[used++] = "3";
  result[used++] = "--color";
  result[used++] = (char *)options->color;
  if (options->output) {
    result[used++] = "--output";
    result[used++] = (char *)options->output;
  }
  result[used++] = "--";
  for (int i = options->program_index; argv[i]; i++) result[used++] = argv[i];
  result[used] = NULL;
  return result;
}

int main(int argc, char **argv) {
  fg_find_self();
  int report_fd = -1, first = 1;
  const char *given_library = NULL;
  if (argc > 4 && strcmp(argv[1], "--report-fd") == 0 && strcmp(argv[3], "--library") == 0) {
    /* Moved out of the program's way and closed on exec: the program must neither find its
     * descriptor 3 taken nor keep the caller's pipe open after the launcher has ended (a
     * daemon would hold the caller's read open for as long as it runs). */
    int given = atoi(argv[2]);
    report_fd = fcntl(given, F_DUPFD_CLOEXEC, FG_INHERITED_FD_FLOOR);
    if (report_fd < 0) {
      fprintf(stderr, "forkguard-launcher: error: --report-fd %d: %s\n", given, strerror(errno));
      return FG_TRAPPED_EXIT;
    }
    close(given);
    given_library = argv[4];
    first = 5;
  }
  if (!argv[first] || strcmp(argv[first], "run") != 0) {
    if (report_fd >= 0) {
      fprintf(stderr, "forkguard-launcher: error: --report-fd and --library go with run\n");
      return FG_TRAPPED_EXIT;
    }
    fg_exec_tool(argv);
  }
  struct fg_run_options options;
  char library[PATH_MAX], program[PATH_MAX];
  if (given_library) snprintf(library, sizeof library, "%s", given_library);
  int ours = fg_parse_run(argv, first + 1, &options) &&
             (given_library || fg_find_library(library, sizeof library)) &&
             fg_find_program(argv[options.program_index], program, sizeof program);
  if (!ours) {
    if (report_fd >= 0) {
      fprintf(stderr, "forkguard-launcher: error: the run's command line is not one to launch\n");
      return FG_TRAPPED_EXIT;
    }
    fg_exec_tool(argv);
  }
  /* Text to --output is written as it comes; the file exists, empty, from the start. */
  if (options.output && report_fd < 0) {
    int output = open(options.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (output < 0) fg_exec_tool(argv); /* the tool names the file and the problem */
    close(output);
  }

  sigset_t original_mask;
  sigprocmask(SIG_SETMASK, NULL, &original_mask);
  fg_install_forwarding();
  struct fg_socket sock;
  if (fg_open_socket(&sock) != 0) {
    fprintf(stderr, "forkguard: error: cannot open the report socket: %s\n", strerror(errno));
    return FG_TRAPPED_EXIT;
  }
  struct fg_sink sink = {.fd = report_fd, .lazy = report_fd < 0, .socket_fd = sock.inherited};
  if (sink.lazy) sink.tool_argv = fg_formatter_argv(argv, &options);

  /* A program the loader will not preload into says so up front, in the library's form. */
  int problem = fg_exec_problem(program, NULL, NULL);
  if (problem != FG_EXEC_INSTRUMENTED) {
    char report[PATH_MAX + 200];
    int length = snprintf(report, sizeof report,
                          "==0== fg1 begin rule=runtime-not-instrumented\n==0== fg1 field program=%s\n"
                          "==0== fg1 field reason=%s\n==0== fg1 end\n",
                          program, fg_exec_problem_name(problem));
    if (length > 0 && (size_t)length < sizeof report) fg_deliver(&sink, report, (size_t)length);
  }

  char **environment = fg_environment(library, &options, &sock);
  pid_t child = fg_spawn_program(program, argv + options.program_index, environment, &original_mask);
  if (child < 0) return FG_TRAPPED_EXIT;
  fg_forward_target = child;
  if (fg_forward_pending) kill(child, fg_forward_pending);
  int exit_status = fg_wait(child, sock.receiving, &sink);
  fg_forward_target = 0;
  close(sock.inherited);
  close(sock.receiving);

  /* The formatter prints what is left and ends when its pipe does. */
  if (sink.formatter > 0) {
    close(sink.fd);
    int status = 0;
    while (waitpid(sink.formatter, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return FG_TRAPPED_EXIT;
  }
  return exit_status;
}
