"""Drives an emulator's serial console (-nographic stdio) through pipes, expect-style.

One Machine is one emulator process running the test kernel and initramfs. Its console
transcript goes to LOGDIR/NAME.log and its stderr to LOGDIR/NAME.stderr; failures raise
GuestError carrying the last lines seen.
"""
import os
import re
import select
import signal
import subprocess
import time

# PS1 is '\h:\w\$ ' (tools/initramfs/profile); busybox ash may follow it with a cursor query.
PROMPT = re.compile(r"(?m)^kestrel:[^\n]*?# ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class GuestError(Exception):
    pass


class Machine:
    def __init__(self, name, cmd, logdir):
        self.name = name
        self.cmd = cmd
        os.makedirs(logdir, exist_ok=True)
        self.logpath = os.path.join(logdir, name + ".log")
        self.log = open(self.logpath, "w", encoding="latin-1")
        self.errpath = os.path.join(logdir, name + ".stderr")
        self.log.write("# " + " ".join(cmd) + "\n")
        self.log.flush()
        self.err = open(self.errpath, "w")
        self.buf = ""
        self.pos = 0
        self.seq = 0
        self.status = None
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)

    # -- low level -------------------------------------------------------------------------

    def _pump(self, timeout):
        """Reads what the emulator printed within timeout seconds; notes its exit."""
        fd = self.proc.stdout.fileno()
        try:
            ready, _, _ = select.select([fd], [], [], max(timeout, 0))
        except InterruptedError:
            return
        if ready:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            if data:
                text = data.decode("latin-1").replace("\r", "")
                self.buf += text
                self.log.write(text)
                self.log.flush()
                return
            self.status = self.proc.wait()
        elif self.proc.poll() is not None:
            # Exited but the pipe is still open (a child holds it): drain what is there.
            self.status = self.proc.returncode

    def tail(self, lines=15):
        """The last lines of console output and stderr, for failure messages."""
        seen = ANSI.sub("", self.buf).rstrip("\n").split("\n")[-lines:]
        out = " | ".join(line.strip() for line in seen if line.strip())
        try:
            with open(self.errpath) as f:
                err = f.read().strip().split("\n")[-3:]
        except OSError:
            err = []
        err = " | ".join(e for e in err if e)
        return (("console: " + out) if out else "no console output") + \
            (("; stderr: " + err) if err else "") + f" (log: {self.logpath})"

    def expect(self, pattern, timeout, what=None):
        """Waits for pattern (a str regex or compiled) in the output not yet consumed."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self.status is not None:
                raise GuestError(f"{self.name}: emulator exited with status {self.status} "
                                 f"while waiting for {what or rx.pattern!r}; {self.tail()}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(f"{self.name}: no {what or rx.pattern!r} within {timeout:g} s; "
                                 f"{self.tail()}")
            self._pump(min(left, 0.5))

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode("latin-1"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise GuestError(f"{self.name}: emulator closed its console input; {self.tail()}")

    # -- shell level -----------------------------------------------------------------------

    def wait_prompt(self, timeout):
        """Waits for the shell prompt; returns seconds since the emulator started."""
        self.expect(PROMPT, timeout, "shell prompt")
        return time.monotonic() - self.start

    def sh(self, command, timeout=30):
        """Runs one shell command line; returns (output, exit status, host seconds taken)."""
        self.seq += 1
        n = self.seq
        # The markers are quoted in the echoed command line, so only the real output matches.
        # One line, so nothing is typed ahead into the command's output. command must not end
        # in '&'.
        self.send(f"echo '<'{n}B; {command}; echo '<'{n}E $?\n")
        t0 = time.monotonic()
        self.expect(f"<{n}B\n", timeout, f"start of {command!r}")
        m = self.expect(rf"(?s)(.*?)<{n}E (\d+)\n", timeout, f"end of {command!r}")
        took = time.monotonic() - t0
        self.expect(PROMPT, timeout, "shell prompt")
        return ANSI.sub("", m.group(1)), int(m.group(2)), took

    def check(self, command, timeout=30):
        """Runs a command that must succeed; returns its output."""
        out, status, _ = self.sh(command, timeout)
        if status != 0:
            raise GuestError(f"{command!r} exited with status {status}: {out.strip()[-300:]}")
        return out

    def wait_exit(self, timeout):
        """Waits for the emulator to exit; returns its exit status."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(f"{self.name}: emulator still running after {timeout:g} s; "
                                 f"{self.tail()}")
            self._pump(min(left, 0.5))
        return self.status

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.log.close()
        self.err.close()
