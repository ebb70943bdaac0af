/* glibc's posix_spawn_file_actions_addchdir_np and pipe2, which Swift's Glibc module does
 * not declare (they are behind _GNU_SOURCE / __USE_MISC). */
#ifndef FG_SPAWN_H
#define FG_SPAWN_H

#include <spawn.h>

/* Declared here too: spawn.h may have been read already without _GNU_SOURCE. */
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions,
                                                const char *__restrict directory);

static inline int fg_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
  return posix_spawn_file_actions_addchdir_np(actions, directory);
}

/* Declared here too, for the same reason. */
extern int pipe2(int descriptors[2], int flags);

/* A pipe whose ends no other child started meanwhile inherits (O_CLOEXEC at creation). */
static inline int fg_pipe_cloexec(int descriptors[2]) { return pipe2(descriptors, 02000000 /* O_CLOEXEC */); }

#endif
