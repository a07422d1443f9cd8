"""The ``astra-cosim`` command line: one module per subcommand."""
