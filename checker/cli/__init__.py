"""The `dscheck` command. Each verb lives in its own module, loaded only when it is used."""
