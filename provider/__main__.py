"""The plugin's entry point: Pulumi runs `python <this directory> <engine address>`."""

from meshstack.provider import main

main()
