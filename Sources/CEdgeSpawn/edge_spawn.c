// Process launching with guarantees Foundation's Process and posix_spawn cannot give:
// - the child starts with every signal unblocked and at its default action (a child forked
//   from a Swift concurrency thread would otherwise inherit SIGTERM/SIGINT/SIGHUP blocked and
//   could not be stopped);
// - with die_with_parent, the kernel kills the child when this process dies, even by SIGKILL
//   or a crash (PR_SET_PDEATHSIG). That signal fires when the *thread* that forked the child
//   ends, not the process, so every fork happens on one launcher thread that lives as long as
//   the process; forking from a pool thread that later retires would kill the child early;
// - the child holds no descriptor but its three standard ones (close_range), so it cannot keep
//   another child's pipe open or outlive a descriptor that a dispatch source still watches.
#define _GNU_SOURCE
#include "edge_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

// One request at a time travels to the launcher thread and back.
static pthread_mutex_t launcher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t launcher_wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t caller_lock = PTHREAD_MUTEX_INITIALIZER;  // serialises callers
static pthread_once_t launcher_once = PTHREAD_ONCE_INIT;
static const edge_spawn_request *pending_request;
static pid_t result_pid;
static int result_error;
static int result_ready;

// Async-signal-safe only from here to exec: the child of a multithreaded process.
static void child_fail(int report_fd) {
    int error = errno;
    ssize_t ignored = write(report_fd, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

static void close_between(int first, int last) {
    if (first > last) return;
    unsigned end = last >= 65535 ? ~0u : (unsigned)last;
    if (syscall(SYS_close_range, (unsigned)first, end, 0u) == 0) return;
    for (int fd = first; fd <= last; fd++) close(fd);  // kernels before 5.9
}

static int move_high(int fd, int report_fd) {
    int moved = fcntl(fd, F_DUPFD, 10);
    if (moved < 0) child_fail(report_fd);
    return moved;
}

static void child_run(const edge_spawn_request *request, pid_t parent, int report_fd) {
    sigset_t none;
    sigemptyset(&none);
    struct sigaction defaults = {0};
    defaults.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        if (sigaction(signal_number, &defaults, NULL) == 0) continue;
        // glibc keeps 32 and 33 for itself and refuses them, but an ignored one would stay
        // ignored across exec: ask the kernel directly (its struct: handler, flags, restorer, mask).
        struct {
            void *handler;
            unsigned long flags;
            void *restorer;
            unsigned long mask;
        } kernel_defaults = {0};
        syscall(SYS_rt_sigaction, signal_number, &kernel_defaults, NULL, sizeof kernel_defaults.mask);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (request->die_with_parent) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(report_fd);
        if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    }
    if (request->new_process_group && setpgid(0, 0) != 0) child_fail(report_fd);

    // Move the sources out of 0-2 first, so that placing one cannot overwrite another.
    int sources[3] = {request->stdin_fd, request->stdout_fd, request->stderr_fd};
    for (int target = 0; target < 3; target++) {
        if (sources[target] == EDGE_SPAWN_NULL) {
            int null_fd = open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
            if (null_fd < 0) child_fail(report_fd);
            sources[target] = move_high(null_fd, report_fd);
        } else if (sources[target] >= 0) {
            sources[target] = move_high(sources[target], report_fd);
        }
    }
    for (int target = 0; target < 3; target++) {
        if (sources[target] >= 0 && dup2(sources[target], target) < 0) child_fail(report_fd);
    }
    // Everything else goes, except the report pipe (close-on-exec: exec closes it itself).
    close_between(3, report_fd - 1);
    close_between(report_fd + 1, 65535);
    if (request->directory != NULL && chdir(request->directory) != 0) child_fail(report_fd);
    execve(request->path, request->argv, request->envp != NULL ? request->envp : environ);
    child_fail(report_fd);
}

static void spawn_now(const edge_spawn_request *request, pid_t *pid, int *error) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *error = errno;
        return;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        *error = errno;
        close(report[0]);
        close(report[1]);
        return;
    }
    if (child == 0) child_run(request, parent, report[1]);
    close(report[1]);
    int child_error = 0;
    ssize_t count;
    do {
        count = read(report[0], &child_error, sizeof child_error);
    } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof child_error) {
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
        *error = child_error;
        return;
    }
    *pid = child;
    *error = 0;
}

static void *launcher_main(void *unused) {
    (void)unused;
    // The launcher receives no signals: they belong to the threads that handle them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&launcher_lock);
    for (;;) {
        while (pending_request == NULL) pthread_cond_wait(&launcher_wake, &launcher_lock);
        pid_t pid = 0;
        int error = 0;
        spawn_now(pending_request, &pid, &error);
        pending_request = NULL;
        result_pid = pid;
        result_error = error;
        result_ready = 1;
        pthread_cond_broadcast(&launcher_wake);
    }
    return NULL;
}

static int launcher_start_error;

static void launcher_start(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    launcher_start_error = pthread_create(&thread, &attributes, launcher_main, NULL);
    pthread_attr_destroy(&attributes);
}

int edge_spawn(const edge_spawn_request *request, pid_t *pid) {
    pthread_once(&launcher_once, launcher_start);
    if (launcher_start_error != 0) return launcher_start_error;
    pthread_mutex_lock(&caller_lock);
    pthread_mutex_lock(&launcher_lock);
    pending_request = request;
    result_ready = 0;
    pthread_cond_broadcast(&launcher_wake);
    while (!result_ready) pthread_cond_wait(&launcher_wake, &launcher_lock);
    int error = result_error;
    *pid = result_pid;
    pthread_mutex_unlock(&launcher_lock);
    pthread_mutex_unlock(&caller_lock);
    return error;
}

int edge_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }
