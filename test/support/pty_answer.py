"""Run a command in a pseudo-terminal, type each answer when its prompt
appears (in order), and print everything the terminal showed. For testing
interactive prompts.

usage: python3 pty_answer.py PROMPT ANSWER [PROMPT ANSWER...] -- COMMAND [ARG...]
An ANSWER of ^D or ^Z types Ctrl-D (end of input) or Ctrl-Z instead of a line.
The command's environment and working directory are this process's.
Exits with the command's exit code; 124 (the command killed) when it has not
ended after 25 seconds.
"""
import os
import pty
import select
import signal
import sys
import time

split = sys.argv.index("--")
pairs = sys.argv[1:split]
dialogue = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]
command = sys.argv[split + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown, seen_up_to, deadline = b"", 0, time.time() + 25
while True:
    remaining = deadline - time.time()
    if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
        # No end in sight (a stopped or hung command): kill it, show what it showed, exit 124.
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write(shown.decode(errors="replace"))
        sys.exit(124)
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
    if dialogue:
        prompt, answer = dialogue[0]
        at = shown.find(prompt, seen_up_to)
        if at >= 0:
            keys = {b"^D": b"\x04", b"^Z": b"\x1a"}
            os.write(fd, keys.get(answer, answer + b"\r"))
            seen_up_to = at + len(prompt)
            dialogue.pop(0)

sys.stdout.write(shown.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
