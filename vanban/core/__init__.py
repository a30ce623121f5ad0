"""The foundation every stage may import, and that imports no stage.

- `records`: the typed records with provenance;
- `errors`: VanbanError and the exit codes;
- `text`: normalization, mark folding, chunks, syllables;
- `files`: atomic writes, hashing;
- `formats`: the inputs vanban reads.
"""
