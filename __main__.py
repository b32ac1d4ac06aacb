"""Entry point for `pulumi up`: the stack's `meshstack:scenario` config picks what is built."""

from stacks.program import run

run()
