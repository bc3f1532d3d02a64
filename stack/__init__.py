"""The stack scripts. `stack.stackctl` is the stack manager: `python3 -m stack.stackctl`."""
