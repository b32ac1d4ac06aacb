"""Developer tools that run the program offline: the plan writer and the benchmark."""
