import sys
from pathlib import Path

# tests/office.py writes returns the way offices make them; the tests import it by name.
sys.path.insert(0, str(Path(__file__).parent))


def clean_and_save(round_id: str, root: Path):
    """Clean a round and write its clean tables, as its step 1 does: how a later round finds it as its previous."""
    from pipeline import paths, rounds, schemas
    from pipeline.ingest import cleaning

    round_ = rounds.load_round(round_id, root)
    previous = cleaning.cleaned_tables(round_.previous, root) if round_.previous else None
    aliases = paths.round_paths(round_id, root).aliases
    result = cleaning.clean_round(round_, schemas.load_aliases(aliases if aliases.is_file() else None),
                                  echo=lambda *_: None, previous=previous)
    cleaning.save_clean(result, paths.round_paths(round_id, root).processed)
    return result
