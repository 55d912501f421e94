import sys
from pathlib import Path

# tests/office.py writes returns the way offices make them; the tests import it by name.
sys.path.insert(0, str(Path(__file__).parent))
