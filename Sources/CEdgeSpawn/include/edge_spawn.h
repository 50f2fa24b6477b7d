#ifndef EDGE_SPAWN_H
#define EDGE_SPAWN_H

#include <sys/types.h>

/// What `edge_spawn` starts. `envp == NULL` inherits the environment, `directory == NULL` the
/// working directory. For each standard descriptor: a descriptor number, `EDGE_SPAWN_NULL`
/// (/dev/null) or `EDGE_SPAWN_INHERIT` (the parent's own).
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *directory;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /// The child gets SIGKILL when this process dies, however it dies (PR_SET_PDEATHSIG).
    int die_with_parent;
    /// The child leads a process group of its own (setpgid), so a terminal's Ctrl-C does not reach it.
    int new_process_group;
} edge_spawn_request;

#define EDGE_SPAWN_NULL (-1)
#define EDGE_SPAWN_INHERIT (-2)

/// Starts `request->path` and stores its pid. Returns 0, or the errno of what failed (the
/// exec's own errno when the program could not be started; the child is then reaped).
int edge_spawn(const edge_spawn_request *request, pid_t *pid);

/// pipe2(O_CLOEXEC), which Swift cannot import by name on every libc.
int edge_pipe_cloexec(int fds[2]);

#endif
