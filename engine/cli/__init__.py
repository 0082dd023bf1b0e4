"""The command line: options, commands, prompts and presentation."""
