/* See fg_exec_check.h. ELF64 little- and big-endian, and ELF32, read by hand: <elf.h>'s
 * structures are used only for their layout. */
#define _GNU_SOURCE
#include "fg_exec_check.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fg_read_at(int fd, off_t offset, void *buffer, size_t size) {
  if (lseek(fd, offset, SEEK_SET) != offset) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, (char *)buffer + done, size - done);
    if (got <= 0) return 0;
    done += (size_t)got;
  }
  return 1;
}

static uint64_t fg_word(const unsigned char *bytes, int size, int big_endian) {
  uint64_t value = 0;
  for (int i = 0; i < size; i++) value |= (uint64_t)bytes[big_endian ? size - 1 - i : i] << (8 * i);
  return value;
}

/* A Go program carries a note named "Go" of type 4 (its build ID) in a PT_NOTE segment. */
static int fg_has_go_note(int fd, uint64_t offset, uint64_t size, int big_endian) {
  unsigned char notes[512];
  if (size > sizeof notes) size = sizeof notes;
  if (!fg_read_at(fd, (off_t)offset, notes, (size_t)size)) return 0;
  uint64_t at = 0;
  while (at + 12 <= size) {
    uint64_t name_size = fg_word(notes + at, 4, big_endian);
    uint64_t description_size = fg_word(notes + at + 4, 4, big_endian);
    uint64_t type = fg_word(notes + at + 8, 4, big_endian);
    if (name_size == 3 && at + 15 <= size && memcmp(notes + at + 12, "Go", 3) == 0 && type == 4) return 1;
    at += 12 + ((name_size + 3) & ~3ull) + ((description_size + 3) & ~3ull);
  }
  return 0;
}

/* What the ELF file on `fd` is: FG_EXEC_STATIC, FG_EXEC_GO, or instrumented (also for a file
 * that is not ELF or cannot be read). */
static int fg_elf_problem(int fd, int is_loader) {
  unsigned char header[64];
  if (!fg_read_at(fd, 0, header, sizeof header) || memcmp(header, ELFMAG, SELFMAG) != 0) return 0;
  int wide = header[EI_CLASS] == ELFCLASS64;
  int big_endian = header[EI_DATA] == ELFDATA2MSB;
  uint64_t type = fg_word(header + 16, 2, big_endian);
  if (type != ET_EXEC && type != ET_DYN) return 0;
  uint64_t table = wide ? fg_word(header + 32, 8, big_endian) : fg_word(header + 28, 4, big_endian);
  uint64_t entry_size = fg_word(header + (wide ? 54 : 42), 2, big_endian);
  uint64_t count = fg_word(header + (wide ? 56 : 44), 2, big_endian);
  if (entry_size < (wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || entry_size > 128 || count > 512) return 0;
  int has_interpreter = 0, is_go = 0;
  for (uint64_t i = 0; i < count; i++) {
    unsigned char entry[128];
    if (!fg_read_at(fd, (off_t)(table + i * entry_size), entry, (size_t)entry_size)) return 0;
    uint64_t kind = fg_word(entry, 4, big_endian);
    uint64_t offset = wide ? fg_word(entry + 8, 8, big_endian) : fg_word(entry + 4, 4, big_endian);
    uint64_t size = wide ? fg_word(entry + 32, 8, big_endian) : fg_word(entry + 16, 4, big_endian);
    if (kind == PT_INTERP) has_interpreter = 1;
    if (kind == PT_NOTE && !is_go) is_go = fg_has_go_note(fd, offset, size, big_endian);
  }
  if (is_go) return FG_EXEC_GO;
  /* The loader run as a program (`ld-linux-x86-64.so.2 ./prog`) has no interpreter but does
   * load LD_PRELOAD; a static-pie program looks the same from its headers. */
  if (!has_interpreter && !is_loader) return FG_EXEC_STATIC;
  return FG_EXEC_INSTRUMENTED;
}

/* Does LD_PRELOAD in envp name library (the loader splits it at spaces and colons)? */
static int fg_preloads(char *const envp[], const char *library) {
  size_t library_length = strlen(library);
  for (; *envp; envp++) {
    if (strncmp(*envp, "LD_PRELOAD=", 11) != 0) continue;
    const char *word = *envp + 11;
    while (*word) {
      size_t length = strcspn(word, " :");
      if (length == library_length && memcmp(word, library, length) == 0) return 1;
      word += length;
      if (*word) word++;
    }
  }
  return 0;
}

static int fg_file_problem(const char *path, int depth) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat status;
  int problem = 0;
  if (fstat(fd, &status) == 0) {
    if ((status.st_mode & S_ISUID) && status.st_uid != geteuid()) problem = FG_EXEC_SETUID;
    else if ((status.st_mode & S_ISGID) && status.st_gid != getegid()) problem = FG_EXEC_SETGID;
  }
  char start[256];
  ssize_t got = problem ? 0 : read(fd, start, sizeof start - 1);
  if (got > 2 && start[0] == '#' && start[1] == '!' && depth < 4) {
    /* The interpreter is what runs: the first word after #!. */
    start[got] = 0;
    char *interpreter = start + 2;
    while (*interpreter == ' ' || *interpreter == '\t') interpreter++;
    size_t length = strcspn(interpreter, " \t\r\n");
    interpreter[length] = 0;
    close(fd);
    return length ? fg_file_problem(interpreter, depth + 1) : 0;
  }
  if (!problem) {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    problem = fg_elf_problem(fd, strncmp(name, "ld-", 3) == 0 && strstr(name, ".so") != NULL);
  }
  close(fd);
  return problem;
}

int fg_exec_problem(const char *path, char *const envp[], const char *library) {
  int problem = fg_file_problem(path, 0);
  if (problem) return problem;
  if (envp && library && library[0] && !fg_preloads(envp, library)) return FG_EXEC_PRELOAD_REMOVED;
  return FG_EXEC_INSTRUMENTED;
}

const char *fg_exec_problem_name(int problem) {
  switch (problem) {
  case FG_EXEC_STATIC: return "static";
  case FG_EXEC_SETUID: return "setuid";
  case FG_EXEC_SETGID: return "setgid";
  case FG_EXEC_GO: return "go";
  case FG_EXEC_PRELOAD_REMOVED: return "preload-removed";
  default: return "instrumented";
  }
}
