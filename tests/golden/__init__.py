"""Golden files: readable behaviour kept as text and compared, in the manner of etcd's
`testdata/*.txt` scripts and mypyvy's `.expect` files.

A golden file is a script whose commands are its own input: comment lines (`# ...`), command
lines (`> ...` for a Raft core script, `$ ...` for a command-line transcript), and after each
command the output it produced. A test reads the commands back from the file, runs them,
renders the whole file again and compares it with what is stored, showing a unified diff on
a mismatch. `pytest tests/golden --update-golden` rewrites the files instead, to be reviewed
as a diff like any change. Volatile parts (seconds, rates, the checkout's path) are
normalised in one place, `expect.normalise`, before anything is stored or compared.

Golden files show readable behaviour; they do not replace the assertions of the properties
themselves, which stay in the tests of each area.
"""
