"""Put scripts/ on the import path, so tests import the girfec_py package as the scripts do."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ folders in scripts/ from the tests
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
