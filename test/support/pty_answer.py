"""Run a command in a pseudo-terminal, type each answer when its prompt
appears (in order), and print everything the terminal showed. For testing
interactive prompts.

usage: python3 pty_answer.py PROMPT ANSWER [PROMPT ANSWER...] -- COMMAND [ARG...]
An ANSWER of ^D types Ctrl-D (end of input) instead of a line.
The command's environment and working directory are this process's.
Exits with the command's exit code.
"""
import os
import pty
import sys
import time

split = sys.argv.index("--")
pairs = sys.argv[1:split]
dialogue = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]
command = sys.argv[split + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown, seen_up_to, deadline = b"", 0, time.time() + 60
while time.time() < deadline:
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
            os.write(fd, b"\x04" if answer == b"^D" else answer + b"\r")
            seen_up_to = at + len(prompt)
            dialogue.pop(0)

sys.stdout.write(shown.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
